package main

import "syscall"

// childAttr makes a server process die with the benchmark, so that an
// interrupted run leaves nothing listening.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
