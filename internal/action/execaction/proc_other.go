//go:build !unix

package execaction

import (
	"errors"
	"os"
	"syscall"
)

// supported reports whether the exec action works on this platform: it
// needs Unix process groups.
const supported = false

func procAttr() *syscall.SysProcAttr { return nil }

func terminate(int) error { return errors.ErrUnsupported }

func kill(int) error { return errors.ErrUnsupported }

func signaled(*os.ProcessState) (string, bool) { return "", false }
