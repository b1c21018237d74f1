package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the name of the file in the data directory that the process
// using the directory holds an exclusive lock on, with its pid inside.
const LockFile = "forgehook.lock"

// LockedError reports that another process holds the data directory.
type LockedError struct {
	// Dir is the data directory.
	Dir string
	// PID is the holder's process id as written in the lock file (0 when
	// it could not be read).
	PID int
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "another forgehook (pid " + strconv.Itoa(e.PID) + ")"
	}
	return fmt.Sprintf("store: data directory %s is in use by %s: it holds %s; one process per data directory (give this one its own data_dir, or stop the other)",
		e.Dir, who, filepath.Join(e.Dir, LockFile))
}

// dirLock is an exclusive flock(2) on DataDir/forgehook.lock. The kernel
// releases it when the process ends, however it ends: a kill -9 leaves a
// file that the next process locks again at once.
type dirLock struct {
	f *os.File
}

// lockDir takes the data directory's lock without waiting, and writes the
// process id into the lock file. A held lock is a *LockedError.
func lockDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: data dir: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid := readPID(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Dir: dir, PID: pid}
		}
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("store: lock %s: %w", path, err)
		}
	}
	return &dirLock{f: f}, nil
}

func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	return pid
}

// HolderOf reports whether another process holds dir's lock, and its pid
// (0 when unknown). It takes the lock for a moment when nobody holds it.
func HolderOf(dir string) (held bool, pid int, err error) {
	l, err := lockDir(dir)
	var le *LockedError
	if errors.As(err, &le) {
		return true, le.PID, nil
	}
	if err != nil {
		return false, 0, err
	}
	l.release()
	return false, 0, nil
}

// release unlocks and closes the lock file; the file stays, empty of
// meaning until the next process locks it.
func (l *dirLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}
