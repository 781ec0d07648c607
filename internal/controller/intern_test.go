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
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

func TestCacheTransformsKeepWhatTheyShare(t *testing.T) {
	meta := metav1.ObjectMeta{
		Namespace: "team", Name: "orders", UID: "u",
		Labels:      map[string]string{oauthv1alpha1.ManagedByLabel: oauthv1alpha1.ManagedByValue, "tier": "gold"},
		Annotations: map[string]string{"note": "kept"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "oauth.tokenwarden.io/v1alpha1", Kind: "OAuthConnection",
			Name: "orders", UID: "o"}},
	}
	conn := &oauthv1alpha1.OAuthConnection{ObjectMeta: *meta.DeepCopy(), Spec: oauthv1alpha1.OAuthConnectionSpec{
		Provider: oauthv1alpha1.ProviderGeneric, TokenURL: "https://idp.example/token",
		ClientSecretRef: oauthv1alpha1.ClientSecretReference{Name: "client"},
	}, Status: oauthv1alpha1.OAuthConnectionStatus{Conditions: []metav1.Condition{{
		Type: oauthv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "TokenIssued", Message: "issued"}}}}
	state := &corev1.Secret{ObjectMeta: *meta.DeepCopy(), Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{stateKey: []byte(`{"seq":1}`)}}
	state.Labels[stateRoleLabel] = stateRoleValue

	applied := conn.DeepCopy()
	applied.Annotations[corev1.LastAppliedConfigAnnotation] = "{}"
	for name, tc := range map[string]struct {
		in, want client.Object
	}{
		"a connection is kept whole, less the kubectl apply copy": {in: applied, want: conn},
		"a state Secret is kept whole":                            {in: state.DeepCopy(), want: state},
	} {
		t.Run(name, func(t *testing.T) {
			for obj, by := range CacheOptions().ByObject {
				if reflect.TypeOf(obj) != reflect.TypeOf(tc.in) {
					continue
				}
				out, err := by.Transform(tc.in)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(out, tc.want) {
					t.Errorf("transformed to\n%#v\nwant\n%#v", out, tc.want)
				}
			}
		})
	}
}
