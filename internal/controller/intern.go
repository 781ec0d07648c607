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
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// intern returns the one shared copy of s. Every cached object arrives with its own copy
// of strings that most objects repeat (the namespace, the operator's label keys and
// values, the owner's API version and kind, a provider's token URL, condition types and
// reasons); the cache keeps one of each instead.
func intern(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}

func internMap(m map[string]string, values bool) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if values {
			v = intern(v)
		}
		out[intern(k)] = v
	}
	return out
}

// internMeta shares the strings of an object's metadata that other objects repeat:
// label keys and values, annotation keys (their values are mostly the object's own), and
// owner references' API versions and kinds.
func internMeta(o client.Object) {
	o.SetNamespace(intern(o.GetNamespace()))
	o.SetLabels(internMap(o.GetLabels(), true))
	o.SetAnnotations(internMap(o.GetAnnotations(), false))
	if refs := o.GetOwnerReferences(); len(refs) > 0 {
		for i := range refs {
			refs[i].APIVersion, refs[i].Kind = intern(refs[i].APIVersion), intern(refs[i].Kind)
		}
		o.SetOwnerReferences(refs)
	}
}

// internConnection shares the strings of a cached connection that many connections repeat.
func internConnection(c *oauthv1alpha1.OAuthConnection) {
	internMeta(c)
	c.Spec.Provider = oauthv1alpha1.Provider(intern(string(c.Spec.Provider)))
	c.Spec.TokenURL = oauthv1alpha1.URL(intern(string(c.Spec.TokenURL)))
	c.Spec.IssuerURL = oauthv1alpha1.URL(intern(string(c.Spec.IssuerURL)))
	c.Spec.ClientSecretRef.Name = oauthv1alpha1.SecretName(intern(string(c.Spec.ClientSecretRef.Name)))
	for i := range c.Status.Conditions {
		cond := &c.Status.Conditions[i]
		cond.Type, cond.Reason = intern(cond.Type), intern(cond.Reason)
		cond.Status = metav1.ConditionStatus(intern(string(cond.Status)))
	}
}
