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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Provider names the token endpoint dialect of a connection.
// +kubebuilder:validation:Enum=Aurora;Aura;AstonClub;Aurinko;Generic
type Provider string

// The supported providers.
const (
	ProviderAurora    Provider = "Aurora"
	ProviderAura      Provider = "Aura"
	ProviderAstonClub Provider = "AstonClub"
	ProviderAurinko   Provider = "Aurinko"
	ProviderGeneric   Provider = "Generic"
)

// Environment selects a provider's documented hosts: Live or Dev for Aurora, Production or
// Sandbox for AstonClub.
// +kubebuilder:validation:Enum=Live;Dev;Production;Sandbox
type Environment string

// The documented environments.
const (
	EnvironmentLive       Environment = "Live"
	EnvironmentDev        Environment = "Dev"
	EnvironmentProduction Environment = "Production"
	EnvironmentSandbox    Environment = "Sandbox"
)

// ClientAuthentication says how a Generic connection presents its client credentials.
// +kubebuilder:validation:Enum=Basic;Body
type ClientAuthentication string

// The client authentication methods of RFC 6749 section 2.3.1.
const (
	ClientAuthenticationBasic ClientAuthentication = "Basic"
	ClientAuthenticationBody  ClientAuthentication = "Body"
)

// RequestEncoding is the body encoding of a Generic connection's token request.
// +kubebuilder:validation:Enum=Form;JSON;Multipart
type RequestEncoding string

// The supported token request encodings.
const (
	RequestEncodingForm      RequestEncoding = "Form"
	RequestEncodingJSON      RequestEncoding = "JSON"
	RequestEncodingMultipart RequestEncoding = "Multipart"
)

// URL is an absolute https URL; http is accepted only for loopback hosts.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=2048
// +kubebuilder:validation:XValidation:rule="isURL(self) && size(url(self).getHostname()) > 0",message="must be an absolute URL such as https://auth.example.com/oauth/token"
// +kubebuilder:validation:XValidation:rule="!isURL(self) || url(self).getScheme() == 'https' || (url(self).getScheme() == 'http' && url(self).getHostname() in ['127.0.0.1', '::1', 'localhost'])",message="must use https; http is allowed only for loopback hosts (127.0.0.1, [::1], localhost)"
type URL string

// SecretName is the name of a Secret in the connection's namespace.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
type SecretName string

// SecretKey is a key of a Secret's data.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
type SecretKey string

// Scope is one RFC 6749 scope token: printable ASCII without space, quote or backslash.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=256
// +kubebuilder:validation:Pattern=`^[\x21\x23-\x5B\x5D-\x7E]+$`
type Scope string

// ParameterValue is the value of an extra token request parameter.
// +kubebuilder:validation:MaxLength=1024
type ParameterValue string

// TemplateText is a Go text/template rendered over the default keys of the workload Secret.
// +kubebuilder:validation:MaxLength=4096
type TemplateText string

// MetadataValue is the value of a label or annotation put on the workload Secret.
// +kubebuilder:validation:MaxLength=4096
type MetadataValue string

// ClientSecretReference names the Secret that holds the OAuth client's id and secret.
type ClientSecretReference struct {
	// name of a Secret in the connection's namespace.
	// +required
	Name SecretName `json:"name"`

	// clientIDKey is the key of the client id in the Secret.
	// +kubebuilder:default=client_id
	// +optional
	ClientIDKey SecretKey `json:"clientIDKey,omitempty"`

	// clientSecretKey is the key of the client secret in the Secret.
	// +kubebuilder:default=client_secret
	// +optional
	ClientSecretKey SecretKey `json:"clientSecretKey,omitempty"`
}

// GrantSecretReference names the Secret that holds the end user's grant: a `refresh_token`,
// or a one-time `code` (with `redirect_uri` where the provider needs it). The operator reads
// it and never writes it.
type GrantSecretReference struct {
	// name of a Secret in the connection's namespace.
	// +required
	Name SecretName `json:"name"`
}

// SecretTemplate shapes the Secret that workloads mount.
type SecretTemplate struct {
	// type of the Secret.
	// +kubebuilder:default=Opaque
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self != 'kubernetes.io/service-account-token'",message="spec.secretTemplate.type must not be kubernetes.io/service-account-token"
	// +optional
	Type string `json:"type,omitempty"`

	// labels added to the Secret, besides the operator's own. Labels under
	// oauth.tokenwarden.io/ and app.kubernetes.io/managed-by are reserved.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.startsWith('oauth.tokenwarden.io/') || k == 'app.kubernetes.io/managed-by')",message="spec.secretTemplate.labels must not set the operator's reserved names (oauth.tokenwarden.io/*, app.kubernetes.io/managed-by)"
	// +optional
	Labels map[string]MetadataValue `json:"labels,omitempty"`

	// annotations added to the Secret. Annotations under oauth.tokenwarden.io/ are reserved.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.startsWith('oauth.tokenwarden.io/') || k == 'app.kubernetes.io/managed-by')",message="spec.secretTemplate.annotations must not set the operator's reserved names (oauth.tokenwarden.io/*, app.kubernetes.io/managed-by)"
	// +optional
	Annotations map[string]MetadataValue `json:"annotations,omitempty"`

	// data holds extra keys whose values are Go text/templates over the default keys,
	// for example `Authorization: "Bearer {{ .access_token }}"`.
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 253 && k.matches('^[-._a-zA-Z0-9]+$'))",message="spec.secretTemplate.data keys must be valid Secret keys (letters, digits, '-', '_', '.')"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k in ['access_token', 'token_type', 'expiry', 'scope', 'user_session', 'account_id', 'user_id'])",message="spec.secretTemplate.data must not redefine a default key (access_token, token_type, expiry, scope, user_session, account_id, user_id)"
	// +optional
	Data map[string]TemplateText `json:"data,omitempty"`
}

// OAuthConnectionSpec is the desired state of an OAuthConnection.
// +kubebuilder:validation:XValidation:rule="self.provider != 'Aura' || has(self.tokenURL)",message="spec.tokenURL is required for provider Aura (its token endpoint is per client: https://{domain}/oauth/token)",fieldPath=".tokenURL"
// +kubebuilder:validation:XValidation:rule="self.provider != 'Generic' || has(self.tokenURL) || has(self.issuerURL)",message="spec.tokenURL or spec.issuerURL is required for provider Generic",fieldPath=".tokenURL"
// +kubebuilder:validation:XValidation:rule="!(has(self.tokenURL) && has(self.issuerURL))",message="spec.tokenURL and spec.issuerURL are mutually exclusive",fieldPath=".issuerURL"
// +kubebuilder:validation:XValidation:rule="!has(self.issuerURL) || self.provider in ['Aurora', 'Generic']",message="spec.issuerURL is supported only for providers Aurora and Generic",fieldPath=".issuerURL"
// +kubebuilder:validation:XValidation:rule="!(self.provider in ['Aura', 'AstonClub', 'Aurinko']) || has(self.grantSecretRef) || has(self.authorization)",message="spec.grantSecretRef is required for providers Aura, AstonClub and Aurinko unless spec.authorization is set",fieldPath=".grantSecretRef"
// +kubebuilder:validation:XValidation:rule="!has(self.authorization) || self.provider != 'Aurora'",message="spec.authorization is not supported for provider Aurora (it uses client credentials)",fieldPath=".authorization"
// +kubebuilder:validation:XValidation:rule="!has(self.authorization) || !has(self.authorization.pkce) || self.authorization.pkce != 'S256' || self.provider != 'Aurinko'",message="spec.authorization.pkce must not be S256 for provider Aurinko (its code exchange cannot carry a code_verifier)",fieldPath=".authorization.pkce"
// +kubebuilder:validation:XValidation:rule="!has(self.authorization) || self.provider != 'Generic' || has(self.issuerURL) || has(self.authorization.authorizeURL)",message="spec.authorization.authorizeURL is required for provider Generic unless spec.issuerURL is set (its authorization_endpoint is discovered)",fieldPath=".authorization.authorizeURL"
// +kubebuilder:validation:XValidation:rule="!has(self.authorization) || self.provider != 'Aurinko' || (has(self.authorization.parameters) && 'serviceType' in self.authorization.parameters)",message="spec.authorization.parameters.serviceType is required for provider Aurinko (which sign-in it shows, e.g. Google or Office365)",fieldPath=".authorization.parameters"
// +kubebuilder:validation:XValidation:rule="!has(self.authorization) || !has(self.authorization.parameters) || self.provider != 'Aurinko' || !self.authorization.parameters.exists(k, k in ['clientId', 'returnUrl', 'responseType', 'scopes'])",message="spec.authorization.parameters must not set clientId, returnUrl, responseType or scopes for provider Aurinko (the operator sends them)",fieldPath=".authorization.parameters"
// +kubebuilder:validation:XValidation:rule="self.provider != 'Aurora' || !has(self.grantSecretRef)",message="spec.grantSecretRef must be empty for provider Aurora (it uses client credentials)",fieldPath=".grantSecretRef"
// +kubebuilder:validation:XValidation:rule="!has(self.environment) || self.provider in ['Aurora', 'AstonClub']",message="spec.environment must be empty for providers other than Aurora and AstonClub",fieldPath=".environment"
// +kubebuilder:validation:XValidation:rule="self.provider != 'Aurora' || !has(self.environment) || self.environment in ['Live', 'Dev']",message="spec.environment must be Live or Dev for provider Aurora",fieldPath=".environment"
// +kubebuilder:validation:XValidation:rule="self.provider != 'AstonClub' || !has(self.environment) || self.environment in ['Production', 'Sandbox']",message="spec.environment must be Production or Sandbox for provider AstonClub",fieldPath=".environment"
// +kubebuilder:validation:XValidation:rule="self.provider == 'Generic' || !has(self.clientAuthentication)",message="spec.clientAuthentication is supported only for provider Generic",fieldPath=".clientAuthentication"
// +kubebuilder:validation:XValidation:rule="self.provider == 'Generic' || !has(self.requestEncoding)",message="spec.requestEncoding is supported only for provider Generic",fieldPath=".requestEncoding"
// +kubebuilder:validation:XValidation:rule="self.provider == 'Generic' || !has(self.extraParameters)",message="spec.extraParameters is supported only for provider Generic",fieldPath=".extraParameters"
type OAuthConnectionSpec struct {
	// provider picks the token endpoint dialect and its defaults.
	// +required
	Provider Provider `json:"provider"`

	// environment selects the documented hosts: Aurora Live (default) or Dev; AstonClub
	// Production (default) or Sandbox. Empty for the other providers.
	// +optional
	Environment Environment `json:"environment,omitempty"`

	// tokenURL overrides the token endpoint. Required for Aura and, unless issuerURL is set,
	// for Generic. For Aurinko the code is appended as a last path segment.
	// +optional
	TokenURL URL `json:"tokenURL,omitempty"`

	// issuerURL enables OpenID Connect / RFC 8414 discovery of the token endpoint. Aurora
	// defaults to its documented issuer. Mutually exclusive with tokenURL. An issuer has no
	// query or fragment (RFC 8414 section 2).
	// +kubebuilder:validation:XValidation:rule="!self.contains('?') && !self.contains('#')",message="spec.issuerURL must not have a query or fragment (RFC 8414 section 2)"
	// +optional
	IssuerURL URL `json:"issuerURL,omitempty"`

	// clientSecretRef names the Secret with the client id and secret.
	// +required
	ClientSecretRef ClientSecretReference `json:"clientSecretRef"`

	// audience is sent as `audience`. Aurora defaults to its documented audience.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Audience string `json:"audience,omitempty"`

	// scopes are sent space-separated as `scope` where the grant takes it.
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	Scopes []Scope `json:"scopes,omitempty"`

	// grantSecretRef names the Secret with the end user's grant. Required for Aura, AstonClub
	// and Aurinko unless authorization is set. For Generic: set selects the refresh-token grant, unset client credentials.
	// +optional
	GrantSecretRef *GrantSecretReference `json:"grantSecretRef,omitempty"`

	// secretName is the Secret that workloads mount. Default: metadata.name.
	// +optional
	SecretName SecretName `json:"secretName,omitempty"`

	// secretTemplate shapes the Secret that workloads mount.
	// +optional
	SecretTemplate *SecretTemplate `json:"secretTemplate,omitempty"`

	// refreshBefore is how long before expiry to refresh. Default: a third of the token's
	// lifetime.
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="spec.refreshBefore must be a positive duration such as 10m"
	// +optional
	RefreshBefore *metav1.Duration `json:"refreshBefore,omitempty"`

	// clientAuthentication (Generic only): Basic (default) or Body. Never auto-detected.
	// +optional
	ClientAuthentication ClientAuthentication `json:"clientAuthentication,omitempty"`

	// requestEncoding (Generic only): Form (default), JSON or Multipart.
	// +optional
	RequestEncoding RequestEncoding `json:"requestEncoding,omitempty"`

	// extraParameters (Generic only) are extra token request parameters, e.g. `resource`.
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 128)",message="spec.extraParameters names must be at most 128 characters"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k in ['grant_type', 'client_id', 'client_secret', 'refresh_token', 'code', 'redirect_uri', 'scope', 'audience'])",message="spec.extraParameters must not set grant_type, client_id, client_secret, refresh_token, code, redirect_uri, scope or audience"
	// +optional
	ExtraParameters map[string]ParameterValue `json:"extraParameters,omitempty"`

	// deletionPolicy: Delete (default) removes the state and workload Secrets with the
	// connection; Retain leaves both, no longer owned, and a connection created later with
	// the same name, provider endpoint and client adopts them and continues from the live
	// refresh token (GitOps replace, backup restore).
	// +kubebuilder:default=Delete
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// authorization enables browser onboarding for the authorization-code providers: while
	// the connection has no usable grant, status.authorizationURL is a link that starts the
	// provider's login, and the code it returns is exchanged at once. With it,
	// grantSecretRef is optional for Aura, AstonClub and Aurinko.
	// +optional
	Authorization *Authorization `json:"authorization,omitempty"`

	// rolloutRestartTargets are workloads in the connection's namespace to restart once per
	// new token published, for consumers that read the token from an environment variable
	// (a mounted Secret follows refreshes without a restart). Each target's pod template
	// gets the annotation oauth.tokenwarden.io/restartedAt, set to a value unique to the
	// token. The manager needs the opt-in rollout RBAC to patch them.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +optional
	RolloutRestartTargets []RolloutRestartTarget `json:"rolloutRestartTargets,omitempty"`

	// rolloutMinInterval is the least time between two restarts of a target: tokens
	// published faster roll the workload at most this often, with the latest token once
	// the interval has passed. Default: 1m.
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="spec.rolloutMinInterval must be a positive duration such as 1m"
	// +optional
	RolloutMinInterval *metav1.Duration `json:"rolloutMinInterval,omitempty"`
}

// PKCEMethod says whether an authorization request carries a PKCE challenge (RFC 7636).
// +kubebuilder:validation:Enum=S256;Disabled
type PKCEMethod string

// The PKCE settings.
const (
	PKCES256     PKCEMethod = "S256"
	PKCEDisabled PKCEMethod = "Disabled"
)

// Authorization is the browser half of the authorization-code flow: where the provider's
// login page is and where it sends the browser back.
type Authorization struct {
	// redirectURI is the callback URL registered with the provider: for the operator's
	// callback server {--callback-url}/callback, for `kubectl tokenwarden authorize` a
	// loopback URL such as http://127.0.0.1:8400/callback. https, or http to a loopback host.
	// +kubebuilder:validation:XValidation:rule="!self.contains('#')",message="spec.authorization.redirectURI must not have a fragment (RFC 6749 section 3.1.2)"
	// +required
	RedirectURI URL `json:"redirectURI"`

	// authorizeURL is the provider's authorization endpoint. Default: derived from the token
	// endpoint (Aura .../oauth/authorize, AstonClub .../authorize/merchant, Aurinko
	// .../v1/auth/authorizeUser), or for Generic the discovered authorization_endpoint.
	// +kubebuilder:validation:XValidation:rule="!self.contains('#')",message="spec.authorization.authorizeURL must not have a fragment (RFC 6749 section 3.1)"
	// +optional
	AuthorizeURL URL `json:"authorizeURL,omitempty"`

	// parameters are extra query parameters of the authorization request (Aurinko:
	// serviceType, accountRole). They cannot set what the request sends itself.
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) > 0 && size(k) <= 128)",message="spec.authorization.parameters names must be 1 to 128 characters"
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k in ['client_id', 'redirect_uri', 'response_type', 'state', 'scope', 'code_challenge', 'code_challenge_method'])",message="spec.authorization.parameters must not set client_id, redirect_uri, response_type, state, scope, code_challenge or code_challenge_method (the operator sends them)"
	// +optional
	Parameters map[string]ParameterValue `json:"parameters,omitempty"`

	// pkce is S256 or Disabled. Default: S256 for Generic, Disabled for the named providers
	// (their documents do not describe PKCE); never S256 for Aurinko.
	// +optional
	PKCE PKCEMethod `json:"pkce,omitempty"`
}

// RolloutRestartKind is the kind of a workload restarted when a new token is published.
// +kubebuilder:validation:Enum=Deployment;StatefulSet;DaemonSet
type RolloutRestartKind string

// The workload kinds a connection can restart.
const (
	RolloutRestartDeployment  RolloutRestartKind = "Deployment"
	RolloutRestartStatefulSet RolloutRestartKind = "StatefulSet"
	RolloutRestartDaemonSet   RolloutRestartKind = "DaemonSet"
)

// RolloutRestartTarget names a workload (apps/v1) in the connection's namespace whose Pods
// are restarted, as `kubectl rollout restart` does, when a new token is published.
type RolloutRestartTarget struct {
	// kind of the workload: Deployment, StatefulSet or DaemonSet.
	// +required
	Kind RolloutRestartKind `json:"kind"`

	// name of the workload in the connection's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +required
	Name string `json:"name"`
}

// DeletionPolicy says what happens to a connection's Secrets when it is deleted.
// +kubebuilder:validation:Enum=Delete;Retain
type DeletionPolicy string

// The deletion policies.
const (
	// DeletionPolicyDelete removes the state and workload Secrets with the connection.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyRetain leaves both, no longer owned; a connection created later with the
	// same name, provider endpoint and client adopts them.
	DeletionPolicyRetain DeletionPolicy = "Retain"
)

// OAuthConnectionStatus is the observed state of an OAuthConnection. It never holds token
// or secret material.
type OAuthConnectionStatus struct {
	// conditions: Ready and Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// secretName is the Secret written.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// tokenType is the normalised token type (Bearer).
	// +optional
	TokenType string `json:"tokenType,omitempty"`

	// scope is the granted scope.
	// +optional
	Scope string `json:"scope,omitempty"`

	// expiresAt is when the current token expires; absent when it does not expire.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// lastRefreshTime is when the current token was obtained.
	// +optional
	LastRefreshTime *metav1.Time `json:"lastRefreshTime,omitempty"`

	// nextRefreshTime is when the operator will refresh; absent: never.
	// +optional
	NextRefreshTime *metav1.Time `json:"nextRefreshTime,omitempty"`

	// consecutiveFailures counts failed token requests since the last success.
	// +optional
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`

	// lastHandledRefreshRequest is the last value of the refresh annotation acted on.
	// +optional
	LastHandledRefreshRequest string `json:"lastHandledRefreshRequest,omitempty"`

	// authorizationURL is the link that connects an account while the connection has no
	// usable grant (reason AuthorizationRequired or ReauthorizationRequired): it starts one
	// login at the provider and expires. Hand it to the person who owns the account; it
	// holds no secret of the client. Empty once the connection holds a usable grant, and
	// when the manager runs no callback server.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	AuthorizationURL string `json:"authorizationURL,omitempty"`

	// rolloutFailure says why rolloutRestartTargets could not be restarted for the current
	// token (a missing workload, a refused patch); empty when none failed. A Warning event
	// is emitted when it changes to a new failure.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	RolloutFailure string `json:"rolloutFailure,omitempty"`
}

// OAuthConnection keeps an OAuth 2.0 access token fresh in a Secret that workloads mount.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=oauthconn,categories=tokenwarden
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.provider`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Next Refresh",type=string,JSONPath=`.status.nextRefreshTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.status.secretName`,priority=1
type OAuthConnection struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec defines the desired state of OAuthConnection.
	// +required
	Spec OAuthConnectionSpec `json:"spec"`

	// status defines the observed state of OAuthConnection.
	// +optional
	Status OAuthConnectionStatus `json:"status,omitzero"`
}

// OAuthConnectionList contains a list of OAuthConnection.
// +kubebuilder:object:root=true
type OAuthConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []OAuthConnection `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &OAuthConnection{}, &OAuthConnectionList{})
		return nil
	})
}
