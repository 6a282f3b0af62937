import Crypto
import Foundation

/// RFC 7636 §4.1–4.2: a verifier (43–128 unreserved chars from a CSPRNG) and its S256 challenge.
public struct PKCE: Sendable, Equatable {
    /// `code_verifier`, sent with the code exchange (RFC 7636 §4.5); a secret of this flow.
    public var verifier: String
    /// `code_challenge`, sent with the authorization request (RFC 7636 §4.3).
    public var challenge: String
    /// `code_challenge_method`: always `S256` here (RFC 7636 §4.2; `plain` only for clients that cannot hash).
    public var method: String

    /// A pair whose challenge is BASE64URL(SHA256(ASCII(verifier))) (RFC 7636 §4.2).
    public init(verifier: String) {
        self.verifier = verifier
        self.challenge = base64URL(SHA256.hash(data: Data(verifier.utf8)))
        self.method = "S256"
    }

    /// RFC 7636 §4.1, §7.1: 32 bytes from the system CSPRNG, base64url without padding, so 43 characters.
    public static func generate() -> PKCE {
        PKCE(verifier: base64URL(randomBytes(32)))
    }
}

/// A random `state` for the authorization request (RFC 6749 §10.12).
public func makeOAuthState() -> String {
    base64URL(randomBytes(24))
}

/// `count` bytes from the system's cryptographically secure generator (getrandom / arc4random).
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}

/// Base64url without padding (RFC 4648 §5), as RFC 7636 Appendix A asks.
func base64URL<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var text = Data(bytes).base64EncodedString()
    text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    while text.hasSuffix("=") { text.removeLast() }
    return text
}
