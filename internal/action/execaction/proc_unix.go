//go:build unix

package execaction

import (
	"errors"
	"os"
	"syscall"
)

// supported reports whether the exec action works on this platform.
const supported = true

// procAttr starts a command as the leader of a new process group, whose id
// is its pid.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// terminate sends SIGTERM to the process group pgid; os.ErrProcessDone
// when the group has no process left.
func terminate(pgid int) error { return signalGroup(pgid, syscall.SIGTERM) }

// kill sends SIGKILL to the process group pgid; os.ErrProcessDone when the
// group has no process left.
func kill(pgid int) error { return signalGroup(pgid, syscall.SIGKILL) }

func signalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 0 {
		return os.ErrProcessDone
	}
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// signaled returns the name of the signal that ended a process, if one did.
func signaled(ps *os.ProcessState) (string, bool) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return "", false
	}
	return ws.Signal().String(), true
}
