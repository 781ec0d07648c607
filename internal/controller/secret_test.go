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
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

func TestWorkloadData(t *testing.T) {
	tok := &storedToken{AccessToken: "secret-access-token", TokenType: "Bearer", Scope: "read",
		Expiry: time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC)}
	tests := []struct {
		name      string
		templates map[string]oauthv1alpha1.TemplateText
		want      map[string]string
		wantErr   string
	}{
		{"renders the default keys", nil, map[string]string{
			"access_token": "secret-access-token", "token_type": "Bearer", "scope": "read", "expiry": "2026-11-23T13:00:00Z"}, ""},
		{"renders a template over the default keys", map[string]oauthv1alpha1.TemplateText{
			"Authorization": "{{ .token_type }} {{ .access_token }}"},
			map[string]string{"Authorization": "Bearer secret-access-token"}, ""},
		{"renders a key the token lacks as empty", map[string]oauthv1alpha1.TemplateText{
			"session": "[{{ .user_session }}]"}, map[string]string{"session": "[]"}, ""},
		{"has no function that reads the environment", map[string]oauthv1alpha1.TemplateText{
			"home": `{{ env "HOME" }}`}, nil, `function "env" not defined`},
		{"has no function that reads files", map[string]oauthv1alpha1.TemplateText{
			"passwd": `{{ readFile "/etc/passwd" }}`}, nil, `function "readFile" not defined`},
		{"reports an execution error without the data", map[string]oauthv1alpha1.TemplateText{
			"bad": `{{ call .access_token }}`}, nil, "spec.secretTemplate.data[bad] could not be rendered"},
		{"bounds what a template renders", map[string]oauthv1alpha1.TemplateText{
			"huge": `{{ range 100000000 }}0123456789{{ end }}`}, nil, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			templates, err := parseTemplates(tt.templates)
			var data map[string][]byte
			if err == nil {
				data, err = workloadData(&connectionConfig{templates: templates}, tok)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), tok.AccessToken) {
					t.Errorf("the error carries the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if string(data[k]) != v {
					t.Errorf("data[%s] = %q, want %q", k, data[k], v)
				}
			}
		})
	}
}

func TestWorkloadDataOmitsWhatTheTokenLacks(t *testing.T) {
	data, err := workloadData(&connectionConfig{}, &storedToken{AccessToken: "at", TokenType: "Bearer"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"expiry", "scope", "user_session", "account_id", "user_id"} {
		if _, ok := data[k]; ok {
			t.Errorf("key %s is present for a token without it", k)
		}
	}
}

func TestLimitedBufferStopsARunawayTemplate(t *testing.T) {
	var b limitedBuffer
	if _, err := b.Write(make([]byte, maxRenderedBytes)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, errRenderTooLarge) {
		t.Errorf("write past the bound: %v", err)
	}
}

func TestCachedWorkloadSecretKeepsOnlyADigest(t *testing.T) {
	data := map[string][]byte{"access_token": []byte("secret-access-token"), "token_type": []byte("Bearer")}
	var transform cache.ByObject
	var (
		workload *corev1.Secret
		state    *corev1.Secret
	)
	for obj, by := range CacheOptions().ByObject {
		if _, ok := obj.(*corev1.Secret); !ok {
			continue
		}
		transform = by
		out, err := by.Transform(&corev1.Secret{Data: maps.Clone(data)})
		if err != nil {
			t.Fatal(err)
		}
		workload = out.(*corev1.Secret)
		out, err = by.Transform(&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{stateRoleLabel: stateRoleValue}},
			Data:       map[string][]byte{stateKey: []byte(`{"seq":1}`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		state = out.(*corev1.Secret)
	}
	if transform.Transform == nil || workload == nil {
		t.Fatal("no transform for Secrets")
	}
	if workload.Data != nil || workload.Annotations[digestAnnotation] == "" || strings.Contains(fmt.Sprint(workload), "secret-access-token") {
		t.Errorf("the cached workload Secret holds %v and %v, want only a digest", workload.Data, workload.Annotations)
	}
	if string(state.Data[stateKey]) != `{"seq":1}` {
		t.Errorf("the cached state Secret lost its data: %v", state.Data)
	}
	whole := &corev1.Secret{Data: data}
	if !dataEqual(workload, data) || !dataEqual(whole, maps.Clone(data)) {
		t.Error("equal data compares unequal")
	}
	for _, other := range []map[string][]byte{
		{"access_token": []byte("other"), "token_type": []byte("Bearer")},
		{"access_token": []byte("secret-access-token")},
		{"access_token": []byte("secret-access-token"), "token_type": []byte("Bearer"), "x": nil},
		{"access_tokenBearer": nil, "token_type": []byte("secret-access-token")},
	} {
		if dataEqual(workload, other) || dataEqual(whole, other) {
			t.Errorf("%v compares equal to %v", other, data)
		}
	}
}

func TestTheCachedDigestIsNeverWritten(t *testing.T) {
	// The API server refuses the key: a write that carried it would fail, not store it.
	if errs := apivalidation.ValidateAnnotations(map[string]string{digestAnnotation: "x"}, field.NewPath("annotations")); len(errs) == 0 {
		t.Errorf("the API server would accept the annotation %q", digestAnnotation)
	}
	cached := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Annotations: map[string]string{"keep": "me"}},
		Data: map[string][]byte{"access_token": []byte("t")}}
	digestData(cached)
	desired := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"l": "v"}, Annotations: map[string]string{"a": "b"}}}
	for name, written := range map[string]*corev1.Secret{
		"the update of data and metadata": withMetadataOf(cached, desired),
		"the base of a metadata patch":    withoutDigest(cached),
	} {
		if _, ok := written.Annotations[digestAnnotation]; ok {
			t.Errorf("%s carries the cache's digest", name)
		}
		if written.Annotations["keep"] != "me" {
			t.Errorf("%s lost the Secret's own annotation: %v", name, written.Annotations)
		}
	}
	if _, ok := cached.Annotations[digestAnnotation]; !ok {
		t.Error("the cached object itself was modified")
	}
}

func TestCachedConnectionDropsTheLastAppliedCopy(t *testing.T) {
	for obj, by := range CacheOptions().ByObject {
		if _, ok := obj.(*oauthv1alpha1.OAuthConnection); !ok {
			continue
		}
		conn := &oauthv1alpha1.OAuthConnection{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
			corev1.LastAppliedConfigAnnotation:       `{"spec":{}}`,
			oauthv1alpha1.RefreshRequestedAnnotation: "2026-11-23T00:00:00Z",
		}}}
		out, err := by.Transform(conn)
		if err != nil {
			t.Fatal(err)
		}
		a := out.(*oauthv1alpha1.OAuthConnection).Annotations
		if _, kept := a[corev1.LastAppliedConfigAnnotation]; kept || a[oauthv1alpha1.RefreshRequestedAnnotation] == "" {
			t.Errorf("cached annotations = %v, want the refresh request only", a)
		}
		return
	}
	t.Fatal("no transform for OAuthConnections")
}
