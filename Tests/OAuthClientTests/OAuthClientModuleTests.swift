import Foundation
import Testing

@testable import OAuthClient

@Suite("OAuthClient: PKCE, state, form encoding and the endpoint rule")
struct OAuthClientModuleTests {
    @Test("S256 of RFC 7636 Appendix B's verifier is the appendix's challenge")
    func rfc7636Vector() {
        let pkce = PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(pkce.method == "S256")
    }

    @Test("generated verifiers are 43 unreserved characters, differ each time, and states do too")
    func generatedValues() {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let verifiers = (0..<50).map { _ in PKCE.generate() }
        for pkce in verifiers {
            #expect((43...128).contains(pkce.verifier.count))
            #expect(pkce.verifier.allSatisfy(unreserved.contains))
            #expect(pkce.challenge == PKCE(verifier: pkce.verifier).challenge)
            #expect(pkce.challenge.count == 43)
        }
        #expect(Set(verifiers.map(\.verifier)).count == 50)
        let states = (0..<50).map { _ in makeOAuthState() }
        #expect(Set(states).count == 50)
        #expect(states.allSatisfy { $0.count >= 32 && $0.allSatisfy(unreserved.contains) })
    }

    @Test("form encoding follows RFC 6749 Appendix B: space as +, UTF-8 percent-encoded, and decodes back")
    func formEncoding() {
        #expect(FormEncoding.escape("a b+c/é~*") == "a+b%2Bc%2F%C3%A9%7E*")
        #expect(
            FormEncoding.encode([("scope", "openid offline_access"), ("x", "1&2=3")])
                == "scope=openid+offline_access&x=1%262%3D3")
        let decoded = FormEncoding.decode("code=a%2Fb+c&state=%E3%81%82&bad=%zz%4&empty=&=skip")
        #expect(decoded.map(\.0) == ["code", "state", "bad", "empty"])
        #expect(decoded.map(\.1) == ["a/b c", "あ", "%zz%4", ""])
        // A long hostile query is one pass: 200,000 pairs decode to 200,000 pairs.
        let long = String(repeating: "a=%41+&", count: 200_000)
        let pairs = FormEncoding.decode(long[...])
        #expect(pairs.count == 200_000)
        #expect(pairs.last?.1 == "A ")
    }

    @Test(
        "https anywhere and http only on loopback are allowed",
        arguments: [
            ("https://login.microsoftonline.com/common/oauth2/v2.0/token", true),
            ("https://oauth2.googleapis.com/token", true),
            ("http://127.0.0.1:8080/token", true),
            ("http://127.4.5.6/token", true),
            ("http://[::1]:9000/token", true),
            ("http://localhost/token", true),
            ("HTTP://LOCALHOST/token", true),
            ("http://192.0.2.1/token", false),
            ("http://login.microsoftonline.com/token", false),
            ("http://127.0.0.1.example.com/token", false),
            ("http://128.0.0.1/token", false),
            ("http://127.0.0.256/token", false),
            ("ftp://127.0.0.1/token", false),
            ("not a url", false),
            ("https:///token", false),
        ])
    func endpointRule(url: String, allowed: Bool) {
        let result = Result { () throws(OAuthError) in try EndpointPolicy.check(url, role: "token endpoint") }
        switch result {
        case .success: #expect(allowed, "\(url)")
        case .failure(let error):
            #expect(!allowed, "\(url)")
            #expect(error.kind == .invalidRequest)
        }
    }
}
