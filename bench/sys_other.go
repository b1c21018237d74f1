//go:build !linux

package main

import "syscall"

// childAttr returns no attributes: the benchmark measures processes
// through /proc and runs on Linux only.
func childAttr() *syscall.SysProcAttr { return nil }
