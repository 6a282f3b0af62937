import Foundation
import OAuthClient
import OAuthTestServer
import Testing

@Suite("OAuthClient: the device authorization grant against the OAuth test server (RFC 8628)")
struct DeviceFlowClientTests {
    @Test("approve: pending events are seen on the real clock, then the tokens come back")
    func approvedOnTheRealClock() async throws {
        var settings = OAuthTestServerConfiguration()
        settings.pollingInterval = 1
        try await withOAuthServer(settings) { server in
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            let authorization = try await client.startDeviceAuthorization()
            #expect(authorization.verificationURI == "\(server.baseURL)/device")
            #expect(
                authorization.verificationURIComplete == "\(server.baseURL)/device?user_code=\(authorization.userCode)")
            #expect(authorization.interval == 1)
            #expect(authorization.expiresIn == 900)
            #expect(authorization.message?.contains(authorization.userCode) == true)
            #expect(server.pendingUserCodes() == [authorization.userCode])

            let log = EventLog()
            let tokens = try await client.pollDeviceAuthorization(authorization) { event in
                log.append(event)
                if event == .pending(polls: 1) {
                    try? server.approve(userCode: authorization.userCode, as: "help@oauth.test")
                }
            }
            #expect(log.events == [.pending(polls: 1)])
            let grant = try #require(server.grants(of: "help@oauth.test").first)
            #expect(grant.activeAccessTokens == [tokens.accessToken])
            #expect(grant.validRefreshTokens == [tokens.refreshToken ?? "none"])
            #expect(tokens.tokenType == "Bearer")
            #expect(tokens.expiresIn == 3600)
            #expect(tokens.scope == msScopes.joined(separator: " "))
        }
    }

    @Test("slow_down: the interval grows by 5 s and the client waits the longer interval from then on")
    func slowDown() async throws {
        try await withOAuthServer { server in
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            let authorization = try await client.startDeviceAuthorization()
            #expect(authorization.interval == 5)
            // The server sees the second wait as 2 s instead of 5 s: polled too soon, so slow_down.
            let clock = SteppedClock(server: server.clock, serverShortfalls: [.zero, .seconds(3)])
            let log = EventLog()
            let tokens = try await client.pollDeviceAuthorization(authorization, clock: clock) { event in
                log.append(event)
                if event == .pending(polls: 3) {
                    try? server.approve(userCode: authorization.userCode, as: "a@oauth.test")
                }
            }
            #expect(log.events == [.pending(polls: 1), .slowDown(interval: 10), .pending(polls: 3)])
            #expect(server.pollingInterval(userCode: authorization.userCode) == 10)
            #expect(clock.sleeps == [.seconds(5), .seconds(5), .seconds(10), .seconds(10)])
            #expect(server.grants(of: "a@oauth.test").first?.activeAccessTokens == [tokens.accessToken])
        }
    }

    @Test("deny is accessDenied with Entra ID's AADSTS65004 read")
    func denied() async throws {
        try await withOAuthServer { server in
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            let authorization = try await client.startDeviceAuthorization()
            let clock = SteppedClock(server: server.clock)
            let error = await #expect(throws: OAuthError.self) {
                try await client.pollDeviceAuthorization(authorization, clock: clock) { _ in
                    try? server.deny(userCode: authorization.userCode)
                }
            }
            #expect(error?.kind == .accessDenied)
            #expect(error?.errorCode == "access_denied")
            #expect(error?.httpStatus == 400)
            #expect(error?.diagnosis.aadstsCode == 65004)
            #expect(error?.isTransient == false)
        }
    }

    @Test("expiry: the server's expired_token, and expires_in passing on the client's clock, are both expiredToken")
    func expired() async throws {
        try await withOAuthServer { server in
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            let late = try await client.startDeviceAuthorization()
            server.clock.advance(by: .seconds(901))
            let byServer = await #expect(throws: OAuthError.self) {
                try await client.pollDeviceAuthorization(late, clock: SteppedClock(server: server.clock))
            }
            #expect(byServer?.kind == .expiredToken)
            #expect(byServer?.errorCode == "expired_token")
            #expect(byServer?.diagnosis.aadstsCode == 70019)

            // The server's clock stands still (so it answers slow_down to every poll after the first) while the
            // client's runs: the client stops by itself once its 20 s have passed, without another request.
            var short = try await client.startDeviceAuthorization()
            short.expiresIn = 20
            let clock = SteppedClock(server: nil)
            let log = EventLog()
            let byClock = await #expect(throws: OAuthError.self) {
                try await client.pollDeviceAuthorization(short, clock: clock) { log.append($0) }
            }
            #expect(byClock?.kind == .expiredToken)
            #expect(byClock?.errorCode == nil)
            #expect(byClock?.diagnosis.summary.contains("expired after 20 s") == true)
            #expect(log.events == [.pending(polls: 1), .slowDown(interval: 10)])
            #expect(clock.sleeps == [.seconds(5), .seconds(5), .seconds(10)])
        }
    }

    @Test("cancelling the polling task ends it with CancellationError")
    func cancelled() async throws {
        try await withOAuthServer { server in
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            let authorization = try await client.startDeviceAuthorization()
            let task = Task { try await client.pollDeviceAuthorization(authorization) }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
        }
    }

    @Test("Google style: verification_url read, 428 pending and 403 slow_down understood, tokens for a public client")
    func googlePublic() async throws {
        try await withOAuthServer { server in
            let client = try OAuthTokenClient(configuration: configuration(server, .google, id: "desk-google-tv"))
            let authorization = try await client.startDeviceAuthorization(loginHint: "b@gmail.test")
            #expect(authorization.verificationURI == "\(server.baseURL)/device")
            #expect(authorization.verificationURIComplete == nil)
            #expect(authorization.message == nil)
            let clock = SteppedClock(server: server.clock, serverShortfalls: [.zero, .seconds(3)])
            let log = EventLog()
            let tokens = try await client.pollDeviceAuthorization(authorization, clock: clock) { event in
                log.append(event)
                if case .slowDown = event { try? server.approve(userCode: authorization.userCode, as: "b@gmail.test") }
            }
            #expect(log.events == [.pending(polls: 1), .slowDown(interval: 10)])
            #expect(tokens.scope == "https://mail.google.com/")
            #expect(server.grants(of: "b@gmail.test").first?.clientID == "desk-google-tv")
        }
    }

    @Test("Google style: a denial is 403 access_denied, diagnosed with Google's test-user hint")
    func googleDenied() async throws {
        try await withOAuthServer { server in
            let client = try OAuthTokenClient(
                configuration: configuration(server, .google, id: "desk-google", secret: "g-secret"))
            let authorization = try await client.startDeviceAuthorization()
            try server.deny(userCode: authorization.userCode)
            let error = await #expect(throws: OAuthError.self) {
                try await client.pollDeviceAuthorization(authorization, clock: SteppedClock(server: server.clock))
            }
            #expect(error?.kind == .accessDenied)
            #expect(error?.httpStatus == 403)
            #expect(error?.errorDescription == "Forbidden.")
            #expect(error?.diagnosis.summary.contains("test users") == true)
        }
    }
}
