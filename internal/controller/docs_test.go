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

package controller

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReliabilityTableNamesRealTests keeps docs/reliability.md honest: every test it names
// (the quoted names in its last column) is a spec or test function of the repository.
func TestReliabilityTableNamesRealTests(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "reliability.md"))
	if err != nil {
		t.Fatal(err)
	}
	var sources strings.Builder
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "bin" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources.Write(raw)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	quoted := regexp.MustCompile(`"([^"]+)"`)
	for line := range strings.SplitSeq(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		last := cells[len(cells)-2]
		for _, m := range quoted.FindAllStringSubmatch(last, -1) {
			named++
			name := m[1]
			if !strings.Contains(sources.String(), `"`+name+`"`) && !strings.Contains(sources.String(), "func "+name+"(") {
				t.Errorf("docs/reliability.md names %q, which no test defines", name)
			}
		}
	}
	if named < 30 {
		t.Errorf("only %d tests named in docs/reliability.md", named)
	}
}
