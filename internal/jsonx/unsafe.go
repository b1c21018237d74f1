package jsonx

import (
	"reflect"
	"unsafe"
)

// This file is the only one of the package that imports unsafe (see the
// package documentation for what it buys). The decoder writes into Go
// values through their addresses, as the runtime's own reflect does, instead
// of through reflect.Value's checked setters; everything else in the package
// handles an addr as an opaque value and goes through the functions below.
// Each is correct under one condition, stated with it, that the plans of
// codec.go guarantee: an addr is always the address of a live, settable Go
// variable of the type of the plan it is passed with.

// addr is the address of a Go variable being decoded into. Being a struct,
// it cannot be converted to a pointer type outside this file.
type addr struct{ p unsafe.Pointer }

// addrOf returns the pointer that v (a non-nil pointer, or the address of
// a slice's backing array through a slice Value) holds.
func addrOf(v reflect.Value) addr { return addr{v.UnsafePointer()} }

// newAddr allocates a zero variable of type t and returns its address.
func newAddr(t reflect.Type) addr { return addr{reflect.New(t).UnsafePointer()} }

// addrOfVar returns the address of the variable *v, which holds a pointer:
// an addr has the layout of an unsafe.Pointer (one field of that type), so
// a plan for a pointer type can read and write *v through it.
func addrOfVar(v *addr) addr { return addr{unsafe.Pointer(v)} }

// isNil reports whether a is the nil address.
func (a addr) isNil() bool { return a.p == nil }

// ptrTo returns a reflect.Value of type *t holding a. Safe when a is the
// address of a variable of type t (the invariant above).
func (a addr) ptrTo(t reflect.Type) reflect.Value { return reflect.NewAt(t, a.p) }

// offset returns the address off bytes past a: the field at offset off of
// the struct at a (off from reflect.StructField.Offset), or element n of
// the array at a when off is n times the element size and n is below the
// array's length, or the slice's length when a is its backing array.
func (a addr) offset(off uintptr) addr { return addr{unsafe.Add(a.p, off)} }

// load returns the pointer held by the pointer variable at a. Safe when a
// is the address of a variable of a pointer type (any *T: all have the
// layout of unsafe.Pointer).
func (a addr) load() addr { return addr{*(*unsafe.Pointer)(a.p)} }

// store sets the pointer variable at a to v. Safe when a is the address of
// a variable of type *T and v is nil or the address of a T (newAddr(T),
// or what a variable of type *T held).
func (a addr) store(v addr) { *(*unsafe.Pointer)(a.p) = v.p }

// at returns a as a *T. Safe when a is the address of a variable of type T
// or of a named type whose underlying type is T (same size and layout): the
// plans call it only for the kind they were built for (bool, the sized
// integers and floats, string, json.Number, []byte, any, map[string]any).
func at[T any](a addr) *T { return (*T)(a.p) }
