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

// Condition types.
const (
	// ConditionReady is True while the workload Secret holds a currently valid token.
	ConditionReady = "Ready"
	// ConditionStalled is True when only a human can fix the connection.
	ConditionStalled = "Stalled"
)

// Condition and event reasons.
const (
	ReasonTokenIssued             = "TokenIssued"
	ReasonTokenRefreshed          = "TokenRefreshed"
	ReasonTokenValid              = "TokenValid"
	ReasonTokenExpired            = "TokenExpired"
	ReasonClientSecretNotFound    = "ClientSecretNotFound"
	ReasonGrantSecretNotFound     = "GrantSecretNotFound"
	ReasonInvalidSpec             = "InvalidSpec"
	ReasonTokenRequestFailed      = "TokenRequestFailed"
	ReasonReauthorizationRequired = "ReauthorizationRequired"
	// ReasonAuthorizationRequired says the connection has no grant yet: someone must
	// connect the account (status.authorizationURL, or kubectl tokenwarden authorize).
	ReasonAuthorizationRequired = "AuthorizationRequired"
	ReasonInvalidClient         = "InvalidClient"
	ReasonSecretConflict        = "SecretConflict"
	ReasonProgressing           = "Progressing"
)

// Annotations and labels.
const (
	// RefreshRequestedAnnotation triggers exactly one refresh per new value.
	RefreshRequestedAnnotation = "oauth.tokenwarden.io/refresh-requested-at"
	// ConnectionLabel names the connection that owns a Secret.
	ConnectionLabel = "oauth.tokenwarden.io/connection"
	// ManagedByLabel marks the Secrets the operator writes; the manager caches only these.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of ManagedByLabel.
	ManagedByValue = "tokenwarden"
	// RetainFinalizer holds a connection with deletionPolicy Retain until its Secrets are
	// released (their owner references removed), so the garbage collector leaves them.
	RetainFinalizer = "oauth.tokenwarden.io/retain"
)

// Default keys of the workload Secret.
const (
	KeyAccessToken = "access_token"
	KeyTokenType   = "token_type"
	KeyExpiry      = "expiry"
	KeyScope       = "scope"
	KeyUserSession = "user_session"
	KeyAccountID   = "account_id"
	KeyUserID      = "user_id"
)
