package route

import "reflect"

var anyType = reflect.TypeFor[any]()
