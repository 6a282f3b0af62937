import AsyncHTTPClient
import Foundation
import NIOCore

/// Calls one app registration's endpoints.
public struct OAuthTokenClient: Sendable {
    /// The app registration this client calls for.
    public let configuration: OAuthClientConfiguration
    let transport: OAuthHTTPTransport

    /// A client for `configuration`; refuses endpoint addresses that are not https (or http on loopback) before
    /// anything is sent. `timeout` bounds each HTTP call.
    public init(configuration: OAuthClientConfiguration, timeout: Duration = .seconds(30)) throws(OAuthError) {
        guard !configuration.clientId.isEmpty else {
            throw .refused("the client id is empty", fix: "give the app registration's client id")
        }
        try EndpointPolicy.check(configuration.tokenURL, role: "token endpoint")
        if let url = configuration.deviceAuthorizationURL {
            try EndpointPolicy.check(url, role: "device authorization endpoint")
        }
        if let url = configuration.authorizationURL {
            try EndpointPolicy.check(url, role: "authorization endpoint")
        }
        self.configuration = configuration
        self.transport = OAuthHTTPTransport(
            client: try OAuthHTTPClients.shared.client(caFile: configuration.caFile),
            timeout: Self.timeAmount(timeout))
    }

    // MARK: Refresh and code exchange

    /// RFC 6749 §6: a new access token from `refreshToken`. For `.microsoft` the scopes are sent again (Entra ID
    /// requires `scope`). `refreshToken` of the answer is `nil` when the server sent none: keep the old one.
    public func refresh(refreshToken: String) async throws(OAuthError) -> OAuthTokens {
        var form = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        if configuration.style == .microsoft, !configuration.scopes.isEmpty {
            form.append(("scope", scopeParameter))
        }
        return try await requestTokens(form)
    }

    /// RFC 6749 §4.1.3 with RFC 7636 §4.5: redeems the code the redirect carried, with the PKCE verifier and the
    /// same `redirect_uri` as the authorization request.
    public func exchangeAuthorizationCode(_ code: String, redirectURI: String, pkce: PKCE) async throws(OAuthError)
        -> OAuthTokens
    {
        try await requestTokens([
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
            ("code_verifier", pkce.verifier),
        ])
    }

    /// RFC 6749 §4.1.1, RFC 7636 §4.3: the address to open in a browser. For `.google` it asks for offline access
    /// and consent, without which Google sends no refresh token on a second authorization.
    public func authorizationRequestURL(redirectURI: String, state: String, pkce: PKCE, loginHint: String? = nil)
        throws(OAuthError) -> String
    {
        guard let base = configuration.authorizationURL else {
            throw .refused(
                "the app registration has no authorization endpoint",
                fix: "set the authorization endpoint address, or use the device flow")
        }
        var query = [
            ("response_type", "code"), ("client_id", configuration.clientId), ("redirect_uri", redirectURI),
        ]
        if !configuration.scopes.isEmpty { query.append(("scope", scopeParameter)) }
        query += [("state", state), ("code_challenge", pkce.challenge), ("code_challenge_method", pkce.method)]
        if configuration.style == .google { query += [("access_type", "offline"), ("prompt", "consent")] }
        if let loginHint, !loginHint.isEmpty { query.append(("login_hint", loginHint)) }
        return base + (base.contains("?") ? "&" : "?") + FormEncoding.encode(query)
    }

    // MARK: Device flow

    /// RFC 8628 §3.1–3.2: asks for a device code and the user code to show.
    public func startDeviceAuthorization(loginHint: String? = nil) async throws(OAuthError) -> DeviceAuthorization {
        guard let url = configuration.deviceAuthorizationURL else {
            throw .refused(
                "the app registration has no device authorization endpoint",
                fix: "set the device authorization endpoint address, or use the browser flow")
        }
        var form: [(String, String)] = []
        if !configuration.scopes.isEmpty { form.append(("scope", scopeParameter)) }
        // Google's device endpoint takes only client_id and scope; the others pass a hint through.
        if let loginHint, !loginHint.isEmpty, configuration.style != .google { form.append(("login_hint", loginHint)) }
        let answer = try await send(url, form)
        if let error = answer.fields.string("error") { throw providerError(error, answer) }
        guard answer.status == 200 else { throw noErrorField(answer, url: url) }
        return try Self.deviceAuthorization(answer, url: url)
    }

    /// Polls until approved; sleeps `interval` on `clock` between polls; slow_down adds 5 s; stops with
    /// .expiredToken once expires_in has passed (by the clock) or on expired_token; .accessDenied on access_denied;
    /// CancellationError when cancelled. Up to three transient failures in a row (5xx, transport) are polled
    /// through; other errors end the flow.
    public func pollDeviceAuthorization(
        _ authorization: DeviceAuthorization, clock: any Clock<Duration> = ContinuousClock(),
        onEvent: @Sendable (DevicePollEvent) -> Void = { _ in }
    ) async throws -> OAuthTokens {
        try await poll(authorization, clock: clock, onEvent: onEvent)
    }

    private func poll<C: Clock<Duration>>(
        _ authorization: DeviceAuthorization, clock: C, onEvent: @Sendable (DevicePollEvent) -> Void
    ) async throws -> OAuthTokens {
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", authorization.deviceCode),
        ]
        let deadline = clock.now.advanced(by: .seconds(max(0, authorization.expiresIn)))
        // RFC 8628 §3.2: 5 s when absent; never faster than 1 s whatever a server says.
        var interval = max(1, authorization.interval)
        var polls = 0
        var transientFailures = 0
        while true {
            // RFC 8628 §3.5: wait at least `interval` seconds between polls (and before the first).
            try await clock.sleep(until: clock.now.advanced(by: .seconds(interval)), tolerance: nil)
            guard clock.now < deadline else { throw Self.deviceCodeExpired(after: authorization.expiresIn) }
            do {
                return try await requestTokens(form)
            } catch {
                try Task.checkCancellation()
                polls += 1
                switch error.errorCode {
                case "authorization_pending":
                    transientFailures = 0
                    onEvent(.pending(polls: polls))
                case "slow_down":
                    transientFailures = 0
                    interval += 5
                    onEvent(.slowDown(interval: interval))
                default:
                    guard error.isTransient, transientFailures < 3 else { throw error }
                    transientFailures += 1
                }
            }
        }
    }

    /// The local end of the device flow: `expires_in` passed by the clock before approval.
    static func deviceCodeExpired(after seconds: Int) -> OAuthError {
        OAuthError(
            kind: .expiredToken,
            diagnosis: OAuthDiagnosis(
                summary: "the device code expired after \(seconds) s before the sign-in was finished",
                fix: "start the authorization again and finish the sign-in within the time shown"))
    }

    // MARK: Requests

    /// The scopes as one `scope` parameter (RFC 6749 §3.3: space-delimited).
    var scopeParameter: String { configuration.scopes.joined(separator: " ") }

    /// A token endpoint call: the answer's tokens, or its RFC 6749 §5.2 error.
    func requestTokens(_ form: [(String, String)]) async throws(OAuthError) -> OAuthTokens {
        let url = configuration.tokenURL
        let answer = try await send(url, form)
        if let error = answer.fields.string("error") { throw providerError(error, answer) }
        guard answer.status == 200 else { throw noErrorField(answer, url: url) }
        return try Self.tokens(answer, url: url)
    }

    /// RFC 6749 §2.3.1: `.custom` sends a confidential client's secret by HTTP Basic (id and secret form-encoded,
    /// then base64); `.microsoft` and `.google` send `client_id` and `client_secret` in the body, as their documents
    /// show; a public client sends only `client_id`.
    func send(_ url: String, _ form: [(String, String)]) async throws(OAuthError) -> OAuthHTTPTransport.Answer {
        var form = form
        var basic: String?
        switch (configuration.style, configuration.clientSecret) {
        case (.custom, .some(let secret)):
            let pair = FormEncoding.escape(configuration.clientId) + ":" + FormEncoding.escape(secret)
            basic = "Basic " + Data(pair.utf8).base64EncodedString()
        case (_, .some(let secret)):
            form += [("client_id", configuration.clientId), ("client_secret", secret)]
        case (_, .none):
            form.append(("client_id", configuration.clientId))
        }
        return try await transport.post(url, form: form, basic: basic, style: configuration.style)
    }

    func providerError(_ error: String, _ answer: OAuthHTTPTransport.Answer) -> OAuthError {
        OAuthError(
            style: configuration.style, errorCode: error, errorDescription: answer.fields.string("error_description"),
            httpStatus: answer.status)
    }

    func noErrorField(_ answer: OAuthHTTPTransport.Answer, url: String) -> OAuthError {
        .malformed(
            "a JSON object without an error field (fields: \(answer.fields.names))", httpStatus: answer.status, url: url
        )
    }

    /// RFC 6749 §5.1. The field names, not the values, are shown when `access_token` is missing: the others may be
    /// tokens.
    static func tokens(_ answer: OAuthHTTPTransport.Answer, url: String) throws(OAuthError) -> OAuthTokens {
        let fields = answer.fields
        guard let access = fields.string("access_token") else {
            throw .malformed(
                "a JSON object without access_token (fields: \(fields.names))", httpStatus: answer.status, url: url)
        }
        return OAuthTokens(
            accessToken: access, tokenType: fields.string("token_type") ?? "Bearer",
            expiresIn: fields.int("expires_in"),
            refreshToken: fields.string("refresh_token"), scope: fields.string("scope"))
    }

    /// RFC 8628 §3.2, with Google's `verification_url`.
    static func deviceAuthorization(_ answer: OAuthHTTPTransport.Answer, url: String) throws(OAuthError)
        -> DeviceAuthorization
    {
        let fields = answer.fields
        guard let deviceCode = fields.string("device_code"), let userCode = fields.string("user_code"),
            let verification = fields.string("verification_uri") ?? fields.string("verification_url"),
            let expiresIn = fields.int("expires_in")
        else {
            throw .malformed(
                "a device authorization without device_code, user_code, verification_uri or expires_in "
                    + "(fields: \(fields.names))", httpStatus: answer.status, url: url)
        }
        return DeviceAuthorization(
            deviceCode: deviceCode, userCode: userCode, verificationURI: verification,
            verificationURIComplete: fields.string("verification_uri_complete"), expiresIn: expiresIn,
            interval: fields.int("interval") ?? 5, message: fields.string("message"))
    }

    /// A Duration as NIO's TimeAmount, clamped to a day.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let clamped = min(max(seconds, 0), 86_400)
        return .nanoseconds(clamped * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
