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

package v1alpha1_test

import (
	"fmt"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	oauthv1alpha1 "github.com/tokenwarden/tokenwarden/api/v1alpha1"
)

// connection builds a minimal valid Generic connection and applies the options.
func connection(opts ...func(*oauthv1alpha1.OAuthConnectionSpec)) *oauthv1alpha1.OAuthConnection {
	c := &oauthv1alpha1.OAuthConnection{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "conn-", Namespace: "default"},
		Spec: oauthv1alpha1.OAuthConnectionSpec{
			Provider:        oauthv1alpha1.ProviderGeneric,
			TokenURL:        "https://auth.example.com/oauth/token",
			ClientSecretRef: oauthv1alpha1.ClientSecretReference{Name: "client"},
		},
	}
	for _, o := range opts {
		o(&c.Spec)
	}
	return c
}

func withProvider(p oauthv1alpha1.Provider) func(*oauthv1alpha1.OAuthConnectionSpec) {
	return func(s *oauthv1alpha1.OAuthConnectionSpec) { s.Provider = p }
}

func withTokenURL(u string) func(*oauthv1alpha1.OAuthConnectionSpec) {
	return func(s *oauthv1alpha1.OAuthConnectionSpec) { s.TokenURL = oauthv1alpha1.URL(u) }
}

func withIssuerURL(u string) func(*oauthv1alpha1.OAuthConnectionSpec) {
	return func(s *oauthv1alpha1.OAuthConnectionSpec) { s.IssuerURL = oauthv1alpha1.URL(u) }
}

// withGrant references a grant Secret.
func withGrant() func(*oauthv1alpha1.OAuthConnectionSpec) {
	return func(s *oauthv1alpha1.OAuthConnectionSpec) {
		s.GrantSecretRef = &oauthv1alpha1.GrantSecretReference{Name: "grant"}
	}
}

// withAuthorization sets spec.authorization with a valid redirect URI, and applies f.
func withAuthorization(f func(*oauthv1alpha1.Authorization)) func(*oauthv1alpha1.OAuthConnectionSpec) {
	return func(s *oauthv1alpha1.OAuthConnectionSpec) {
		s.Authorization = &oauthv1alpha1.Authorization{RedirectURI: "https://connect.example.com/callback"}
		if f != nil {
			f(s.Authorization)
		}
	}
}

func withEnvironment(e oauthv1alpha1.Environment) func(*oauthv1alpha1.OAuthConnectionSpec) {
	return func(s *oauthv1alpha1.OAuthConnectionSpec) { s.Environment = e }
}

func with(f func(*oauthv1alpha1.OAuthConnectionSpec)) func(*oauthv1alpha1.OAuthConnectionSpec) {
	return f
}

// connectionObject builds an OAuthConnection from a raw spec, for fields Go cannot express.
func connectionObject(spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(oauthv1alpha1.GroupVersion.WithKind("OAuthConnection"))
	u.SetGenerateName("conn-")
	u.SetNamespace("default")
	return u
}

var _ = Describe("OAuthConnection validation", func() {
	It("accepts every sample in config/samples", func() {
		files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "oauth_*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		providers := map[string]bool{}
		for _, f := range files {
			for _, obj := range readObjects(f) {
				obj.SetNamespace("default")
				Expect(k8sClient.Create(ctx, obj)).To(Succeed(), "sample %s", f)
				if obj.GetKind() == "OAuthConnection" {
					p, _, _ := unstructured.NestedString(obj.Object, "spec", "provider")
					providers[p] = true
				}
			}
		}
		Expect(providers).To(HaveLen(5), "one sample per provider")
	})

	DescribeTable("rejects at create time, naming the field",
		func(c *oauthv1alpha1.OAuthConnection, field, message string) {
			err := k8sClient.Create(ctx, c, client.FieldValidation("Strict"))
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(field))
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("an unknown provider",
			connection(withProvider("Auroraa")), "spec.provider", "Unsupported value"),
		Entry("Aura without tokenURL",
			connection(withProvider("Aura"), withTokenURL(""), withGrant()),
			"spec.tokenURL", "required for provider Aura"),
		Entry("Aura without grantSecretRef",
			connection(withProvider("Aura")), "spec.grantSecretRef", "required for providers Aura"),
		Entry("AstonClub without grantSecretRef",
			connection(withProvider("AstonClub"), withTokenURL("")),
			"spec.grantSecretRef", "required for providers Aura, AstonClub"),
		Entry("Aurinko without grantSecretRef",
			connection(withProvider("Aurinko"), withTokenURL("")),
			"spec.grantSecretRef", "required for providers Aura, AstonClub and Aurinko"),
		Entry("Aurora with a grantSecretRef",
			connection(withProvider("Aurora"), withTokenURL(""), withGrant()),
			"spec.grantSecretRef", "must be empty for provider Aurora"),
		Entry("environment Production on Aurora",
			connection(withProvider("Aurora"), withTokenURL(""), withEnvironment("Production")),
			"spec.environment", "must be Live or Dev"),
		Entry("environment Live on AstonClub",
			connection(withProvider("AstonClub"), withTokenURL(""), withGrant(), withEnvironment("Live")),
			"spec.environment", "must be Production or Sandbox"),
		Entry("an environment on Generic",
			connection(withEnvironment("Live")), "spec.environment", "must be empty"),
		Entry("tokenURL together with issuerURL",
			connection(withIssuerURL("https://auth.example.com/")),
			"spec.issuerURL", "mutually exclusive"),
		Entry("Generic with neither tokenURL nor issuerURL",
			connection(withTokenURL("")), "spec.tokenURL", "spec.tokenURL or spec.issuerURL is required"),
		Entry("issuerURL on Aura",
			connection(withProvider("Aura"), withTokenURL(""), withIssuerURL("https://aura.example.com/"), withGrant()),
			"spec.issuerURL", "only for providers Aurora and Generic"),
		Entry("clientAuthentication on Aurora",
			connection(withProvider("Aurora"), withTokenURL(""), with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.ClientAuthentication = oauthv1alpha1.ClientAuthenticationBody
			})), "spec.clientAuthentication", "only for provider Generic"),
		Entry("requestEncoding on AstonClub",
			connection(withProvider("AstonClub"), withTokenURL(""), withGrant(), with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.RequestEncoding = oauthv1alpha1.RequestEncodingJSON
			})), "spec.requestEncoding", "only for provider Generic"),
		Entry("extraParameters on Aura",
			connection(withProvider("Aura"), withGrant(), with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.ExtraParameters = map[string]oauthv1alpha1.ParameterValue{"resource": "x"}
			})), "spec.extraParameters", "only for provider Generic"),
		Entry("an http tokenURL to a remote host",
			connection(withTokenURL("http://auth.example.com/oauth/token")), "spec.tokenURL", "must use https"),
		Entry("an http issuerURL to the cloud metadata address",
			connection(withTokenURL(""), withIssuerURL("http://169.254.169.254/")), "spec.issuerURL", "must use https"),
		Entry("a tokenURL that is not an absolute URL",
			connection(withTokenURL("/oauth/token")), "spec.tokenURL", "must be an absolute URL"),
		Entry("a scope with a space",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) { s.Scopes = []oauthv1alpha1.Scope{"read write"} })),
			"spec.scopes[0]", "should match"),
		Entry("more than 64 scopes",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				for i := range 65 {
					s.Scopes = append(s.Scopes, oauthv1alpha1.Scope(fmt.Sprintf("s%d", i)))
				}
			})), "spec.scopes", "must have at most 64 items"),
		Entry("an extra parameter over 1024 characters",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.ExtraParameters = map[string]oauthv1alpha1.ParameterValue{"resource": oauthv1alpha1.ParameterValue(strings.Repeat("x", 1025))}
			})), "spec.extraParameters.resource", "Too long"),
		Entry("an extra parameter that overrides client_secret",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.ExtraParameters = map[string]oauthv1alpha1.ParameterValue{"client_secret": "x"}
			})), "spec.extraParameters", "must not set grant_type, client_id, client_secret"),
		Entry("a secretTemplate key that redefines access_token",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.SecretTemplate = &oauthv1alpha1.SecretTemplate{Data: map[string]oauthv1alpha1.TemplateText{"access_token": "x"}}
			})), "spec.secretTemplate.data", "must not redefine a default key"),
		Entry("a secretTemplate key that is not a Secret key",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.SecretTemplate = &oauthv1alpha1.SecretTemplate{Data: map[string]oauthv1alpha1.TemplateText{"bad key!": "x"}}
			})), "spec.secretTemplate.data", "must be valid Secret keys"),
		Entry("a negative refreshBefore",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.RefreshBefore = &metav1.Duration{Duration: -5 * 60e9}
			})), "spec.refreshBefore", "must be a positive duration"),
		Entry("a secretTemplate label of the operator's (managed-by)",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.SecretTemplate = &oauthv1alpha1.SecretTemplate{Labels: map[string]oauthv1alpha1.MetadataValue{"app.kubernetes.io/managed-by": "me"}}
			})), "spec.secretTemplate.labels", "must not set the operator's reserved names"),
		Entry("a secretTemplate annotation under oauth.tokenwarden.io/",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.SecretTemplate = &oauthv1alpha1.SecretTemplate{Annotations: map[string]oauthv1alpha1.MetadataValue{"oauth.tokenwarden.io/state": "{}"}}
			})), "spec.secretTemplate.annotations", "must not set the operator's reserved names"),
		Entry("a secretTemplate label under oauth.tokenwarden.io/",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
				s.SecretTemplate = &oauthv1alpha1.SecretTemplate{Labels: map[string]oauthv1alpha1.MetadataValue{"oauth.tokenwarden.io/connection": "x"}}
			})), "spec.secretTemplate.labels", "must not set the operator's reserved names"),
		Entry("an issuerURL with a query",
			connection(withTokenURL(""), withIssuerURL("https://auth.example.com/?tenant=a")), "spec.issuerURL", "must not have a query or fragment"),
		Entry("an issuerURL with a fragment",
			connection(withTokenURL(""), withIssuerURL("https://auth.example.com/#x")), "spec.issuerURL", "must not have a query or fragment"),
		Entry("an unknown deletionPolicy",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) { s.DeletionPolicy = "Orphan" })),
			"spec.deletionPolicy", "Unsupported value"),
		Entry("authorization on Aurora",
			connection(withProvider("Aurora"), withTokenURL(""), withAuthorization(nil)),
			"spec.authorization", "not supported for provider Aurora"),
		Entry("an authorization redirectURI over http to a remote host",
			connection(withProvider("Aura"), withAuthorization(func(a *oauthv1alpha1.Authorization) {
				a.RedirectURI = "http://connect.example.com/callback"
			})), "spec.authorization.redirectURI", "must use https"),
		Entry("an authorization redirectURI with a fragment",
			connection(withProvider("Aura"), withAuthorization(func(a *oauthv1alpha1.Authorization) {
				a.RedirectURI = "https://connect.example.com/callback#x"
			})), "spec.authorization.redirectURI", "must not have a fragment"),
		Entry("an authorizeURL that is not an absolute URL",
			connection(withProvider("Aura"), withAuthorization(func(a *oauthv1alpha1.Authorization) {
				a.AuthorizeURL = "/oauth/authorize"
			})), "spec.authorization.authorizeURL", "must be an absolute URL"),
		Entry("an unknown pkce value",
			connection(withProvider("Aura"), withAuthorization(func(a *oauthv1alpha1.Authorization) { a.PKCE = "plain" })),
			"spec.authorization.pkce", "Unsupported value"),
		Entry("pkce S256 on Aurinko",
			connection(withProvider("Aurinko"), withTokenURL(""), withAuthorization(func(a *oauthv1alpha1.Authorization) {
				a.PKCE = oauthv1alpha1.PKCES256
				a.Parameters = map[string]oauthv1alpha1.ParameterValue{"serviceType": "Google"}
			})), "spec.authorization.pkce", "must not be S256 for provider Aurinko"),
		Entry("Aurinko's authorization without serviceType",
			connection(withProvider("Aurinko"), withTokenURL(""), withAuthorization(nil)),
			"spec.authorization.parameters", "serviceType is required for provider Aurinko"),
		Entry("an authorization parameter that overrides state",
			connection(withProvider("Aura"), withAuthorization(func(a *oauthv1alpha1.Authorization) {
				a.Parameters = map[string]oauthv1alpha1.ParameterValue{"state": "fixed"}
			})), "spec.authorization.parameters", "must not set client_id, redirect_uri, response_type, state"),
		Entry("an authorization parameter that overrides Aurinko's returnUrl",
			connection(withProvider("Aurinko"), withTokenURL(""), withAuthorization(func(a *oauthv1alpha1.Authorization) {
				a.Parameters = map[string]oauthv1alpha1.ParameterValue{"serviceType": "Google", "returnUrl": "https://evil.example.com/"}
			})), "spec.authorization.parameters", "must not set clientId, returnUrl"),
		Entry("Generic's authorization with neither issuerURL nor authorizeURL",
			connection(withGrant(), withAuthorization(nil)),
			"spec.authorization.authorizeURL", "required for provider Generic unless spec.issuerURL"),
		Entry("a secretName that is not a DNS name",
			connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) { s.SecretName = "Not_A_Name" })),
			"spec.secretName", "should match"),
	)

	It("cannot express a Secret in another namespace", func() {
		obj := connectionObject(map[string]any{
			"provider":        "Generic",
			"tokenURL":        "https://auth.example.com/oauth/token",
			"clientSecretRef": map[string]any{"name": "client", "namespace": "kube-system"},
		})
		err := k8sClient.Create(ctx, obj, client.FieldValidation("Strict"))
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(`unknown field "spec.clientSecretRef.namespace"`))
	})

	It("accepts browser onboarding without a grant Secret for the authorization-code providers", func() {
		for _, c := range []*oauthv1alpha1.OAuthConnection{
			connection(withProvider("Aura"), withAuthorization(nil)),
			connection(withProvider("AstonClub"), withTokenURL(""), withAuthorization(func(a *oauthv1alpha1.Authorization) {
				a.AuthorizeURL = "https://sandbox.example.com/authorize/organization"
			})),
			connection(withProvider("Aurinko"), withTokenURL(""), withAuthorization(func(a *oauthv1alpha1.Authorization) {
				a.Parameters = map[string]oauthv1alpha1.ParameterValue{"serviceType": "Google", "accountRole": "primary"}
			})),
			connection(withTokenURL(""), withIssuerURL("https://auth.example.com/"), withAuthorization(func(a *oauthv1alpha1.Authorization) {
				a.RedirectURI = "http://127.0.0.1:8400/callback"
				a.PKCE = oauthv1alpha1.PKCES256
			})),
		} {
			Expect(k8sClient.Create(ctx, c, client.FieldValidation("Strict"))).To(Succeed(), "%s", c.Spec.Provider)
		}
	})

	It("accepts http to loopback hosts", func() {
		for _, u := range []string{"http://127.0.0.1:8080/token", "http://[::1]:8080/token", "http://localhost/token"} {
			Expect(k8sClient.Create(ctx, connection(withTokenURL(u)))).To(Succeed(), u)
		}
	})

	It("applies the defaults", func() {
		By("defaulting the client Secret keys in the CRD schema")
		c := connection(with(func(s *oauthv1alpha1.OAuthConnectionSpec) {
			s.SecretTemplate = &oauthv1alpha1.SecretTemplate{}
		}))
		Expect(k8sClient.Create(ctx, c)).To(Succeed())
		Expect(c.Spec.ClientSecretRef.ClientIDKey).To(BeEquivalentTo("client_id"))
		Expect(c.Spec.ClientSecretRef.ClientSecretKey).To(BeEquivalentTo("client_secret"))
		Expect(c.Spec.SecretTemplate.Type).To(Equal(string(corev1.SecretTypeOpaque)))
		Expect(c.Spec.Environment).To(BeEmpty())
		Expect(c.Spec.DeletionPolicy).To(Equal(oauthv1alpha1.DeletionPolicyDelete))

		By("defaulting Aurora's environment to Live and AstonClub's to Production by admission policy")
		a := connection(withProvider("Aurora"), withTokenURL(""))
		Expect(k8sClient.Create(ctx, a)).To(Succeed())
		Expect(a.Spec.Environment).To(Equal(oauthv1alpha1.EnvironmentLive))
		s := connection(withProvider("AstonClub"), withTokenURL(""), withGrant())
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		Expect(s.Spec.Environment).To(Equal(oauthv1alpha1.EnvironmentProduction))

		By("keeping an environment the user chose")
		d := connection(withProvider("Aurora"), withTokenURL(""), withEnvironment("Dev"))
		Expect(k8sClient.Create(ctx, d)).To(Succeed())
		Expect(d.Spec.Environment).To(Equal(oauthv1alpha1.EnvironmentDev))
	})
})
