import Crypto
import Foundation

/// The secret tokens of agents (password links, console session cookies): 32 random bytes as base64url, stored
/// only as the SHA-256 of the token text, so that the database alone signs nobody in.
public enum AgentToken {
    /// A new token and the hash the store keeps of it.
    public static func generate() -> (token: String, hash: Data) {
        // SystemRandomNumberGenerator is the system's CSPRNG (getrandom on Linux).
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = base64URL(Data(bytes))
        return (token, hash(token))
    }

    /// The SHA-256 of a token as it was given (its UTF-8 text), as the store keys it.
    public static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    /// base64url without padding (RFC 4648 §5).
    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
