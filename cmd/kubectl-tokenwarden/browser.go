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
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// openBrowser starts the browser on url and does not wait for it: a browser may run for
// hours, and the printed URL is there if none opens.
func openBrowser(url string) error {
	argv := browserCommand(runtime.GOOS, os.Getenv("BROWSER"), url)
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // the user's own $BROWSER, or the desktop's opener
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// browserCommand is the command line that opens url: $BROWSER's first command (a list
// separated as $PATH is; "%s" stands for the URL, else it is appended), else the
// desktop's opener.
func browserCommand(goos, browserEnv, url string) []string {
	for entry := range strings.SplitSeq(browserEnv, string(filepath.ListSeparator)) {
		fields := strings.Fields(entry)
		if len(fields) == 0 {
			continue
		}
		placed := false
		for i, f := range fields {
			if strings.Contains(f, "%s") {
				fields[i], placed = strings.ReplaceAll(f, "%s", url), true
			}
		}
		if !placed {
			fields = append(fields, url)
		}
		return fields
	}
	switch goos {
	case "darwin":
		return []string{"open", url}
	case "windows":
		return []string{"rundll32", "url.dll,FileProtocolHandler", url}
	}
	return []string{"xdg-open", url}
}
