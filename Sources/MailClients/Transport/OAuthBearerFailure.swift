import Foundation

/// The error a server sends when it refuses an OAuth 2.0 token, decoded from the JSON of the OAUTHBEARER error
/// challenge (RFC 7628 §3.2.2); Google's and Microsoft's XOAUTH2 send the same keys.
public struct OAuthBearerFailure: Sendable, Equatable {
    /// The `status` member: an RFC 6750 §3.1 error code (`invalid_token`) or Google's HTTP status (`"400"`, `"401"`).
    public var status: String
    /// The `scope` member: the scope a token needs for this resource, when the server names one.
    public var scope: String?
    /// The `openid-configuration` member: where the server's OpenID Connect discovery document lives.
    public var openidConfiguration: String?

    /// A failure with its members.
    public init(status: String, scope: String? = nil, openidConfiguration: String? = nil) {
        self.status = status
        self.scope = scope
        self.openidConfiguration = openidConfiguration
    }

    /// The most bytes of JSON we parse, and the most characters kept of any member: the challenge comes from the
    /// server, and a real one is well under a kilobyte.
    static let maximumJSONBytes = 8 * 1024
    static let maximumMemberLength = 1024

    // RFC 7628 §3.2.2: the error challenge is a JSON object (RFC 8259) with
    //   "status" (required), "scope" (optional), "openid-configuration" (optional); other members are ignored.
    /// Decodes the JSON text of an error challenge (already base64-decoded). Returns `nil` for anything that is not
    /// a JSON object with a non-empty string `status` (RFC 7628 §3.2.2 makes it a string): too long, not UTF-8, not JSON, nested too deep, an array.
    /// Members that are not strings are dropped; long members are cut to `maximumMemberLength` characters.
    static func decode(json bytes: some Collection<UInt8>) -> OAuthBearerFailure? {
        guard bytes.count <= maximumJSONBytes, bytes.first(where: { !Self.isJSONWhitespace($0) }) == UInt8(ascii: "{")
        else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: []),
            let members = object as? [String: Any]
        else { return nil }
        func text(_ key: String) -> String? {
            (members[key] as? String).map { String($0.prefix(maximumMemberLength)) }
        }
        guard let status = text("status"), !status.isEmpty else { return nil }
        return OAuthBearerFailure(
            status: status, scope: text("scope"), openidConfiguration: text("openid-configuration"))
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

extension OAuthBearerFailure {
    /// The refusal in words, for a diagnosis: the status, and the scope the server wants, when it names one.
    public var explanation: String {
        var text = "the server answered status \(status)"
        if let scope, !scope.isEmpty { text += " and wants a token with scope \(scope)" }
        return text
    }
}
