import Foundation
import OAuthTestServer
import Testing

@Suite("OAuth test server: device authorization grant (RFC 8628)")
struct DeviceFlowTests {
    @Test("device code: pending, slow_down when polled faster than the interval, then tokens once approved")
    func approved() async throws {
        try await withOAuthServer { server in
            let start = try await startDeviceFlow(server, clientID: "desk-ms")
            #expect(start.status == 200)
            let deviceCode = try #require(start.string("device_code"))
            let userCode = try #require(start.string("user_code"))
            // RFC 8628 §6.1: XXXX-XXXX from a vowel-free alphabet.
            #expect(userCode.wholeMatch(of: /[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}/) != nil)
            #expect(start.string("verification_uri") == "\(server.baseURL)/device")
            #expect(start.string("verification_uri_complete") == "\(server.baseURL)/device?user_code=\(userCode)")
            #expect(start.int("expires_in") == 900)
            #expect(start.int("interval") == 5)
            #expect(start.string("message")?.contains(userCode) == true)
            #expect(server.pendingUserCodes() == [userCode])

            let first = try await pollDeviceCode(server, deviceCode)
            #expect(first.status == 400)
            #expect(first.error == "authorization_pending")
            #expect(first.errorDescription?.hasPrefix("AADSTS70016: ") == true)
            #expect((first.json["error_codes"] as? [Int]) == [70016])

            let tooSoon = try await pollDeviceCode(server, deviceCode)
            #expect(tooSoon.error == "slow_down")
            #expect(server.pollingInterval(userCode: userCode) == 10)

            // The new interval (10 s) holds for all later polls (§3.5): 6 s later is still too soon.
            server.clock.advance(by: .seconds(6))
            #expect(try await pollDeviceCode(server, deviceCode).error == "slow_down")
            server.clock.advance(by: .seconds(16))
            #expect(try await pollDeviceCode(server, deviceCode).error == "authorization_pending")

            try server.approve(
                userCode: userCode.lowercased().replacingOccurrences(of: "-", with: ""), as: "help@oauth.test")
            #expect(server.pendingUserCodes().isEmpty)
            server.clock.advance(by: .seconds(20))
            let tokens = try await pollDeviceCode(server, deviceCode)
            #expect(tokens.status == 200)
            #expect(tokens.string("token_type") == "Bearer")
            #expect(tokens.int("expires_in") == 3600)
            #expect(tokens.string("scope") == msScopes.joined(separator: " "))
            let access = try #require(tokens.string("access_token"))
            let refreshToken = try #require(tokens.string("refresh_token"))
            #expect(tokens.headers.first(name: "Cache-Control") == "no-store")
            let grant = try #require(server.grants(of: "help@oauth.test").first)
            #expect(grant.activeAccessTokens == [access])
            #expect(grant.validRefreshTokens == [refreshToken])

            // A device code gives tokens once.
            server.clock.advance(by: .seconds(20))
            let again = try await pollDeviceCode(server, deviceCode)
            #expect(again.error == "invalid_grant")
        }
    }

    @Test("a denied device code is access_denied; one not approved in time is expired_token")
    func deniedAndExpired() async throws {
        try await withOAuthServer { server in
            let denied = try await startDeviceFlow(server, clientID: "desk-ms")
            try server.deny(userCode: try #require(denied.string("user_code")))
            let answer = try await pollDeviceCode(server, try #require(denied.string("device_code")))
            #expect(answer.error == "access_denied")
            #expect(answer.errorDescription?.hasPrefix("AADSTS65004: ") == true)

            let late = try await startDeviceFlow(server, clientID: "desk-ms")
            server.clock.advance(by: .seconds(901))
            let expired = try await pollDeviceCode(server, try #require(late.string("device_code")))
            #expect(expired.error == "expired_token")
            #expect(expired.errorDescription?.hasPrefix("AADSTS70019: ") == true)
            #expect(throws: OAuthTestServerError.self) {
                try server.approve(userCode: late.string("user_code") ?? "", as: "help@oauth.test")
            }
        }
    }

    @Test("Google style: verification_url, 428 while pending, 403 for slow_down, short descriptions")
    func googleStyle() async throws {
        try await withOAuthServer { server in
            let start = try await startDeviceFlow(server, clientID: "desk-google-tv")
            #expect(start.string("verification_url") == "\(server.baseURL)/device")
            #expect(start.string("verification_uri") == nil)
            let deviceCode = try #require(start.string("device_code"))
            let pending = try await pollDeviceCode(server, deviceCode, clientID: "desk-google-tv")
            #expect(pending.status == 428)
            #expect(pending.error == "authorization_pending")
            #expect(pending.errorDescription == "Precondition Required.")
            #expect(pending.json["error_codes"] == nil)
            let slow = try await pollDeviceCode(server, deviceCode, clientID: "desk-google-tv")
            #expect(slow.status == 403)
            #expect(slow.error == "slow_down")
        }
    }

    // Speed is not asserted here (no timed unit tests): the form reader is one pass over the bytes.
    @Test("a 50 KB form of 6,000 parameters is read whole, and a body over 64 KiB is refused")
    func largeForms() async throws {
        try await withOAuthServer { server in
            let many = (0..<6000).map { ("p\($0)", "AB") } + [("client_id", "desk-ms")]
            let answer = try await OAuthHTTP.post(server.tokenURL, many)
            // The client id after 6,000 other fields is found: the form is read to its end.
            #expect(answer.error == "invalid_request")  // no grant_type
            let huge = try await OAuthHTTP.post(
                server.tokenURL, [("grant_type", String(repeating: "a", count: 70_000))])
            #expect(huge.status == 413)
        }
    }

    @Test("another client's device code, an unknown client and a bad grant_type are refused")
    func refusals() async throws {
        try await withOAuthServer { server in
            let start = try await startDeviceFlow(server, clientID: "desk-ms")
            let deviceCode = try #require(start.string("device_code"))
            let stolen = try await pollDeviceCode(server, deviceCode, clientID: "desk-google-tv")
            #expect(stolen.error == "invalid_grant")
            let unknown = try await pollDeviceCode(server, deviceCode, clientID: "nobody")
            #expect(unknown.status == 401)
            #expect(unknown.error == "invalid_client")
            #expect(unknown.errorDescription?.hasPrefix("AADSTS700016: ") == true)
            let badType = try await OAuthHTTP.post(
                server.tokenURL, [("grant_type", "password"), ("client_id", "desk-ms")])
            #expect(badType.error == "unsupported_grant_type")
            let noType = try await OAuthHTTP.post(server.tokenURL, [("client_id", "desk-ms")])
            #expect(noType.error == "invalid_request")
            let twice = try await OAuthHTTP.post(
                server.deviceAuthorizationURL, [("client_id", "desk-ms"), ("client_id", "desk-ms")])
            #expect(twice.error == "invalid_request")
            let badScope = try await OAuthHTTP.post(
                server.deviceAuthorizationURL, [("client_id", "desk-ms"), ("scope", "offline_access Mail.ReadWrite")])
            #expect(badScope.error == "invalid_scope")
            #expect(badScope.errorDescription?.contains("Mail.ReadWrite") == true)
            let json = try await OAuthHTTP.post(
                server.tokenURL, [("client_id", "desk-ms")], contentType: "application/json")
            #expect(json.error == "invalid_request")
        }
    }
}
