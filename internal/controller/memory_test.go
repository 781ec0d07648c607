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
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

func TestWrittenRecordsLeaveNoMapBehind(t *testing.T) {
	var w written
	uid := types.UID("u")
	for i := range 1000 {
		key := types.NamespacedName{Namespace: "ns", Name: fmt.Sprint(i)}
		w.stateSaved(key, uid, 1, time.Now())
		w.statusPatched(key, uid, &oauthv1alpha1.OAuthConnectionStatus{}, "7")
	}
	if len(w.records) != 1000 {
		t.Fatalf("%d records, want 1000", len(w.records))
	}
	for i := range 1000 {
		key := types.NamespacedName{Namespace: "ns", Name: fmt.Sprint(i)}
		w.stateCaughtUp(key, uid, 1)
		if i%2 == 0 {
			w.statusCaughtUp(key, uid, "7")
		} else {
			w.forget(key)
		}
	}
	if w.records != nil {
		t.Errorf("the cache caught up with every write, and the records' map (%d entries) is kept", len(w.records))
	}
	if r := w.get(types.NamespacedName{Namespace: "ns", Name: "1"}, uid); r.stateSeq != 0 || r.status != nil {
		t.Errorf("a forgotten record is still there: %+v", r)
	}
}
