import Foundation

/// Body of `POST /v1/oauth/flows`: a sign-in to start with one of the admin's apps.
public struct OAuthFlowBody: Codable, Sendable {
    public var app: String
    public var signIn: OAuthSignIn
    /// The CLI's loopback listener (`http://127.0.0.1:PORT/callback`), for `browser`.
    public var redirectURI: String?
    /// The account to sign in as, offered to the provider's sign-in page.
    public var loginHint: String?

    public init(app: String, signIn: OAuthSignIn, redirectURI: String? = nil, loginHint: String? = nil) {
        self.app = app
        self.signIn = signIn
        self.redirectURI = redirectURI
        self.loginHint = loginHint
    }
}

/// The answer of `POST /v1/oauth/flows`: what the admin opens, and the flow's id to follow it by.
public struct OAuthFlowStarted: Codable, Sendable {
    public var id: String
    public var app: String
    public var signIn: OAuthSignIn
    /// Device flow: the code to enter, and where.
    public var userCode: String?
    public var verificationURI: String?
    public var verificationURIComplete: String?
    /// Microsoft's own instruction, when it sent one.
    public var message: String?
    /// Browser flow: the address to open, and the `state` it carries (the CLI's listener takes only that one).
    public var authorizationURL: String?
    public var state: String?
    public var expiresAt: Date

    /// Makes the value from its fields.
    public init(
        id: String, app: String, signIn: OAuthSignIn, userCode: String? = nil, verificationURI: String? = nil,
        verificationURIComplete: String? = nil, message: String? = nil, authorizationURL: String? = nil,
        state: String? = nil, expiresAt: Date
    ) {
        self.id = id
        self.app = app
        self.signIn = signIn
        self.userCode = userCode
        self.verificationURI = verificationURI
        self.verificationURIComplete = verificationURIComplete
        self.message = message
        self.authorizationURL = authorizationURL
        self.state = state
        self.expiresAt = expiresAt
    }
}

/// Where a sign-in stands (`GET /v1/oauth/flows/{id}`).
public struct OAuthFlowProgressView: Codable, Sendable {
    /// The closed set of a flow's states.
    public enum State: String, Codable, Sendable {
        case waiting, approved, failed
    }

    public var id: String
    public var state: State
    /// Token requests so far (device flow), and the seconds between them (grown by `slow_down`).
    public var polls: Int?
    public var interval: Int?
    /// Why it failed, with the fix.
    public var error: String?

    /// Makes the value from its fields.
    public init(id: String, state: State, polls: Int? = nil, interval: Int? = nil, error: String? = nil) {
        self.id = id
        self.state = state
        self.polls = polls
        self.interval = interval
        self.error = error
    }
}

/// Body of `POST /v1/oauth/flows/{id}/code`: what the browser brought back to the CLI's listener.
public struct OAuthFlowCodeBody: Codable, Sendable {
    public var code: String
    public var state: String

    public init(code: String, state: String) {
        self.code = code
        self.state = state
    }
}

/// Body of `POST /v1/channels/{address}/reauthorize`: the finished sign-in whose grant replaces the channel's login.
public struct ReauthorizeBody: Codable, Sendable {
    public var oauthFlow: String

    public init(oauthFlow: String) { self.oauthFlow = oauthFlow }
}

/// A grant as `status` shows it: never a token.
public struct OAuthGrantView: Codable, Sendable, Equatable {
    public var app: String
    public var grantedAt: Date
    public var lastRefreshAt: Date?
    public var accessExpiresAt: Date?
    public var refreshCount: Int
    /// Why the grant no longer works, with the fix; nil while it works.
    public var failure: String?

    /// Makes the value from its fields.
    public init(
        app: String, grantedAt: Date, lastRefreshAt: Date? = nil, accessExpiresAt: Date? = nil, refreshCount: Int,
        failure: String? = nil
    ) {
        self.app = app
        self.grantedAt = grantedAt
        self.lastRefreshAt = lastRefreshAt
        self.accessExpiresAt = accessExpiresAt
        self.refreshCount = refreshCount
        self.failure = failure
    }
}
