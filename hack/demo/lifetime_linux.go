/*
Copyright 2026 The tokenwarden authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// The demo stops what it started on every exit it sees (Ctrl-C, SIGTERM, SIGHUP, a
// closed output). The kernel covers the exits it cannot see: each process the demo
// starts gets SIGKILL when the demo dies, however it dies, and the demo itself gets
// SIGTERM, and so stops in order, when its parent (make) dies.

// Environment of the control plane's processes: the directory of the real binaries, and
// the demo's pid, which must still be their parent once they can no longer miss its death.
const (
	launchDirEnv    = "TOKENWARDEN_DEMO_BINARIES"
	launchParentEnv = "TOKENWARDEN_DEMO_PID"
)

// launched are the binaries envtest starts that the demo starts through itself.
var launched = []string{"kube-apiserver", "etcd"}

// launchIfAsked runs when this executable was started as one of launched (through a link
// that controlPlaneBinaries made): it asks for SIGKILL on the demo's death and executes
// the real binary, which keeps the pid envtest knows. envtest starts kube-apiserver and
// etcd itself, in process groups of their own so that Ctrl-C reaches only the demo, and
// lets no one set their parent-death signal. It returns when there is nothing to launch.
func launchIfAsked() {
	name := filepath.Base(os.Args[0])
	dir := os.Getenv(launchDirEnv)
	if dir == "" || !slices.Contains(launched, name) {
		return
	}
	// The parent-death signal belongs to a thread and survives execve only on the thread
	// that calls it.
	runtime.LockOSThread()
	if err := setParentDeathSignal(syscall.SIGKILL); err != nil {
		fatalf("%s: setting the parent-death signal: %v", name, err)
	}
	if strconv.Itoa(os.Getppid()) != os.Getenv(launchParentEnv) {
		os.Exit(1) // the demo died before the signal was set: nothing to start for
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, launchDirEnv+"=") || strings.HasPrefix(kv, launchParentEnv+"=")
	})
	bin := filepath.Join(dir, name)
	err := syscall.Exec(bin, append([]string{bin}, os.Args[1:]...), env)
	fatalf("%s: %v", bin, err)
}

func fatalf(format string, args ...any) {
	_, _ = fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// controlPlaneBinaries returns paths for envtest to start kube-apiserver and etcd by:
// links in dir to this executable, which launchIfAsked turns into the binaries of assets.
// A test binary must call launchIfAsked from its TestMain.
func controlPlaneBinaries(dir, assets string) (apiServer, etcd string, err error) {
	self, err := os.Executable()
	if err != nil {
		return "", "", err
	}
	assets, err = filepath.Abs(assets)
	if err != nil {
		return "", "", err
	}
	for _, name := range launched {
		if err := os.Symlink(self, filepath.Join(dir, name)); err != nil {
			return "", "", err
		}
	}
	// envtest starts them with this process's environment.
	if err := os.Setenv(launchDirEnv, assets); err != nil {
		return "", "", err
	}
	if err := os.Setenv(launchParentEnv, strconv.Itoa(os.Getpid())); err != nil {
		return "", "", err
	}
	return filepath.Join(dir, "kube-apiserver"), filepath.Join(dir, "etcd"), nil
}

// dieWithDemo makes cmd's process get SIGKILL when the demo dies.
func dieWithDemo(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// stopWhenParentDies makes the demo get SIGTERM, which stops it in order, when its parent
// dies: make killed, say, rather than interrupted.
func stopWhenParentDies() {
	parent := os.Getppid()
	if parent == 1 {
		return // started by init, or its parent is gone already
	}
	if err := setParentDeathSignal(syscall.SIGTERM); err != nil {
		return // the demo still stops on every signal it is sent
	}
	if os.Getppid() != parent {
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
}

func setParentDeathSignal(sig syscall.Signal) error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(sig), 0); errno != 0 {
		return errno
	}
	return nil
}
