import Foundation

extension OAuthAuthority {
    static let deviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code"

    /// RFC 8628 §3.1–3.2: the device authorization request and its response.
    func deviceAuthorization(_ form: FormParameters, authorization: String?) -> OAuthHTTPReply {
        lock.withLock {
            var style = style(naming: form, authorization: authorization)
            do throws(OAuthFailure) {
                if let name = form.repeatedName { throw .invalidRequest(name) }
                let client = try authenticateClient(form, authorization: authorization, style: &style)
                let scopes = try resolveScopes(form["scope"], allowed: client.scopes)
                let deviceCode = Self.randomToken(prefix: "dc")
                let userCode = makeUserCode()
                deviceCodes[deviceCode] = DeviceAuthorization(
                    clientID: client.id, userCode: userCode, scopes: scopes,
                    expiresAt: now.addingTimeInterval(TimeInterval(configuration.deviceCodeLifetime)),
                    interval: configuration.pollingInterval)
                userCodes[Self.normalizedUserCode(userCode)] = deviceCode
                let verification = "\(baseURL)/device"
                var body: [String: any Sendable] = [
                    "device_code": deviceCode,
                    "user_code": userCode,
                    "expires_in": configuration.deviceCodeLifetime,
                    "interval": configuration.pollingInterval,
                ]
                switch style {
                case .microsoft:
                    body["verification_uri"] = verification
                    body["verification_uri_complete"] = "\(verification)?user_code=\(userCode)"
                    body["message"] =
                        "To sign in, use a web browser to open the page \(verification) and enter the code "
                        + "\(userCode) to authenticate."
                case .google:
                    // Google's device flow names the address `verification_url`, not RFC 8628's `verification_uri`.
                    body["verification_url"] = verification
                }
                return .json(body)
            } catch {
                return .failure(error, style: style, at: now, usedBasic: authorization != nil)
            }
        }
    }

    /// RFC 6749 §4.1.3, §6 and RFC 8628 §3.4: the token endpoint.
    func token(_ form: FormParameters, authorization: String?) -> OAuthHTTPReply {
        lock.withLock {
            var style = style(naming: form, authorization: authorization)
            do throws(OAuthFailure) {
                if let name = form.repeatedName { throw .invalidRequest(name) }
                let grantType = try form.required("grant_type")
                let client = try authenticateClient(form, authorization: authorization, style: &style)
                let tokens: OAuthTokenSet
                switch grantType {
                case Self.deviceCodeGrantType: tokens = try redeemDeviceCode(form, client: client)
                case "authorization_code": tokens = try redeemAuthorizationCode(form, client: client)
                case "refresh_token": tokens = try refresh(form, client: client)
                default: throw .unsupportedGrantType(grantType)
                }
                return tokenResponse(tokens, style: style)
            } catch {
                return .failure(error, style: style, at: now, usedBasic: authorization != nil)
            }
        }
    }

    /// RFC 8628 §3.4–3.5: pending, slow_down (and 5 s more interval from then on), denied, expired, approved.
    private func redeemDeviceCode(_ form: FormParameters, client: OAuthClientRegistration) throws(OAuthFailure)
        -> OAuthTokenSet
    {
        let deviceCode = try form.required("device_code")
        guard var device = deviceCodes[deviceCode], device.clientID == client.id else {
            throw .badVerificationCode
        }
        let now = now
        guard now < device.expiresAt else { throw .expiredToken }
        defer { deviceCodes[deviceCode] = device }
        switch device.state {
        case .pending:
            let last = device.lastPoll
            device.lastPoll = now
            if let last, now.timeIntervalSince(last) < TimeInterval(device.interval) {
                device.interval += 5
                throw .slowDown
            }
            throw .authorizationPending
        case .denied:
            throw .accessDenied
        case .redeemed:
            throw .badVerificationCode
        case .approved(let user):
            device.state = .redeemed
            return createGrant(client: client, user: user, scopes: device.scopes).1
        }
    }

    /// RFC 6749 §4.1.3 with RFC 7636 §4.5–4.6: single use, same client and redirect URI, the PKCE verifier.
    private func redeemAuthorizationCode(_ form: FormParameters, client: OAuthClientRegistration)
        throws(OAuthFailure) -> OAuthTokenSet
    {
        let value = try form.required("code")
        guard var code = authorizationCodes[value], code.clientID == client.id else {
            throw .invalidAuthorizationCode
        }
        if let grantID = code.grantID {
            // RFC 6749 §4.1.2: a code used twice revokes the tokens it gave.
            grants[grantID]?.revocation = .revoked
            throw .authorizationCodeRedeemed
        }
        guard now < code.expiresAt else { throw .invalidAuthorizationCode }
        guard form["redirect_uri"] == code.redirectURI else { throw .redirectURIMismatch }
        if let challenge = code.challenge {
            guard let verifier = form["code_verifier"], Self.isWellFormedVerifier(verifier),
                Self.challenge(for: verifier, method: code.challengeMethod) == challenge
            else { throw .codeVerifierMismatch }
        }
        let (grantID, tokens) = createGrant(client: client, user: code.user, scopes: code.scopes)
        code.grantID = grantID
        authorizationCodes[value] = code
        return tokens
    }

    /// RFC 6749 §6: a new access token, a rotated refresh token (unless configured otherwise), scope at most the
    /// grant's.
    private func refresh(_ form: FormParameters, client: OAuthClientRegistration) throws(OAuthFailure)
        -> OAuthTokenSet
    {
        let value = try form.required("refresh_token")
        guard let token = refreshTokens[value], let grant = grants[token.grantID], grant.clientID == client.id else {
            throw .invalidRefreshToken
        }
        switch grant.revocation {
        case .passwordChanged: throw .grantRevokedPasswordChanged
        case .expiredAfterInactivity: throw .grantExpired
        case .revoked: throw .grantRevoked
        case nil: break
        }
        guard token.valid else { throw .invalidRefreshToken }
        let scopes = try resolveScopes(form["scope"], allowed: grant.scopes)
        let access = mintAccessToken(grantID: token.grantID, scopes: scopes)
        grants[token.grantID]?.refreshCount += 1
        var newRefresh: String?
        switch configuration.refreshTokenRotation {
        case .rotate:
            refreshTokens[value]?.valid = false
            newRefresh = mintRefreshToken(grantID: token.grantID)
        case .rotateKeepingOld:
            newRefresh = mintRefreshToken(grantID: token.grantID)
        case .reuse:
            newRefresh = nil
        }
        return OAuthTokenSet(
            accessToken: access, refreshToken: newRefresh, expiresIn: accessTokenLifetime, scopes: scopes)
    }

    /// RFC 6749 §4.1.1–4.1.2 with RFC 7636 §4.3 and RFC 8252 §7.3: the authorization endpoint. A bad client or
    /// redirect URI is a page, never a redirect (§4.1.2.1); everything else redirects to the loopback address.
    func authorize(_ query: FormParameters) -> OAuthHTTPReply {
        lock.withLock {
            guard query.repeatedName == nil, let clientID = query["client_id"], let client = clients[clientID] else {
                return .page("Unknown or missing client_id.", status: 400)
            }
            guard let redirect = query["redirect_uri"], Self.isLoopbackRedirect(redirect) else {
                return .page("redirect_uri must be http://127.0.0.1:PORT/… or http://[::1]:PORT/….", status: 400)
            }
            var answer: [(String, String)] = []
            do throws(OAuthFailure) {
                let responseType = try query.required("response_type")
                guard responseType == "code" else { throw .unsupportedResponseType(responseType) }
                let scopes = try resolveScopes(query["scope"], allowed: client.scopes)
                let challenge = query["code_challenge"]
                let method = query["code_challenge_method"] ?? "plain"
                guard method == "S256" || method == "plain" else { throw .invalidRequest("code_challenge_method") }
                if let challenge, !Self.isWellFormedVerifier(challenge) { throw .invalidRequest("code_challenge") }
                if challenge == nil, client.requiresPKCE || !client.isConfidential {
                    throw .invalidRequest("code_challenge")
                }
                switch decisions[client.id] {
                case nil:
                    return .page("Sign in to continue. (No decision set for client \(client.id).)")
                case .deny:
                    throw .accessDenied
                case .approve(let user):
                    let code = Self.randomToken(prefix: "ac")
                    authorizationCodes[code] = AuthorizationCode(
                        clientID: client.id, user: user, scopes: scopes, redirectURI: redirect, challenge: challenge,
                        challengeMethod: method,
                        expiresAt: now.addingTimeInterval(TimeInterval(configuration.authorizationCodeLifetime)))
                    answer = [("code", code)]
                }
            } catch {
                answer = [("error", error.error)]
                if client.style == .microsoft {
                    answer.append(("error_description", "AADSTS\(error.microsoft.code): \(error.microsoft.text)"))
                }
            }
            if let state = query["state"] { answer.append(("state", state)) }
            let separator = redirect.contains("?") ? "&" : "?"
            return .redirect(to: redirect + separator + FormParameters.encode(answer))
        }
    }

    /// RFC 8252 §7.3 (and §8.3: an IP literal, not `localhost`): `http`, host 127.0.0.1 or [::1], any port, no
    /// fragment (RFC 6749 §3.1.2).
    static func isLoopbackRedirect(_ uri: String) -> Bool {
        guard let components = URLComponents(string: uri), components.scheme == "http",
            components.fragment == nil, let host = components.host
        else { return false }
        return host == "127.0.0.1" || host == "[::1]" || host == "::1"
    }

    /// RFC 7009 §2.1–2.2: revoking a refresh token revokes its grant and so every access token of it; revoking an
    /// access token revokes that one. An unknown token is still 200.
    func revoke(_ form: FormParameters, authorization: String?) -> OAuthHTTPReply {
        lock.withLock {
            var style = style(naming: form, authorization: authorization)
            do throws(OAuthFailure) {
                if let name = form.repeatedName { throw .invalidRequest(name) }
                let client = try authenticateClient(form, authorization: authorization, style: &style)
                let value = try form.required("token")
                // §2.1: the hint only speeds up the search; both kinds are searched.
                if let token = refreshTokens[value], let grant = grants[token.grantID] {
                    guard grant.clientID == client.id else { throw .unauthorizedClient }
                    grants[token.grantID]?.revocation = .revoked
                } else if let token = accessTokens[value], let grant = grants[token.grantID] {
                    guard grant.clientID == client.id else { throw .unauthorizedClient }
                    accessTokens[value]?.revoked = true
                }
                return OAuthHTTPReply(status: 200, body: [], contentType: "text/plain")
            } catch {
                return .failure(error, style: style, at: now, usedBasic: authorization != nil)
            }
        }
    }

    /// RFC 7662 §2.1–2.2: the protected resource authenticates; an active access token is described, anything else
    /// (unknown, expired, revoked, a refresh token) is only `{"active": false}`.
    func introspect(_ form: FormParameters, authorization: String?) -> OAuthHTTPReply {
        lock.withLock {
            introspectionCount += 1
            if let expected = configuration.introspectionCredentials {
                let basic = BasicCredentials(header: authorization)
                guard basic?.id ?? form["client_id"] == expected.id,
                    basic?.secret ?? form["client_secret"] == expected.secret
                else {
                    var reply = OAuthHTTPReply.json(["error": "invalid_client"], status: 401)
                    reply.headers.append(("WWW-Authenticate", "Basic realm=\"oauth-test\""))
                    return reply
                }
            }
            guard form.repeatedName == nil, let value = form["token"] else {
                return .json(["error": "invalid_request"], status: 400)
            }
            guard let token = accessTokens[value], isActive(token), let grant = grants[token.grantID] else {
                return .json(["active": false])
            }
            return .json([
                "active": true,
                "scope": token.scopes.joined(separator: " "),
                "client_id": grant.clientID,
                "username": grant.user,
                "sub": Self.subject(of: grant.user),
                "token_type": "Bearer",
                "exp": Int(token.expiresAt.timeIntervalSince1970),
                "iat": Int(token.issuedAt.timeIntervalSince1970),
                "iss": baseURL,
            ])
        }
    }

    /// A stable opaque subject for a user (RFC 7662 §2.2 `sub`), unlike the user name.
    static func subject(of user: String) -> String {
        base64URL(Array(user.utf8).reversed()).prefix(22).description
    }

    /// The verification address a person would open (RFC 8628 §3.3); the test approves through the Swift API.
    func verificationPage(_ query: FormParameters) -> OAuthHTTPReply {
        lock.withLock {
            if let code = query["user_code"], userCodes[Self.normalizedUserCode(code)] != nil {
                return .page("Code \(code) is waiting for approval.")
            }
            return .page("Enter the code shown on your device.")
        }
    }

    /// RFC 8628 §6.1: eight characters of BCDFGHJKLMNPQRSTVWXZ (no vowels, no look-alikes), shown as XXXX-XXXX.
    func makeUserCode() -> String {
        let alphabet = Array("BCDFGHJKLMNPQRSTVWXZ")
        while true {
            let letters = (0..<8).map { _ in alphabet.randomElement() ?? "B" }
            let code = String(letters[0..<4]) + "-" + String(letters[4...])
            if userCodes[Self.normalizedUserCode(code)] == nil { return code }
        }
    }

    /// RFC 8628 §6.1: case and dashes do not matter when the user types the code.
    static func normalizedUserCode(_ code: String) -> String {
        code.uppercased().filter { $0 != "-" && $0 != " " }
    }
}
