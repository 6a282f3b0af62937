import Foundation

/// The pieces of SASL that IMAP, SMTP and POP3 share: base64 (RFC 4648 §4), the PLAIN message (RFC 4616 §2) and
/// the XOAUTH2 message (Google's and Microsoft's OAuth 2.0 mechanism, shaped like RFC 7628's OAUTHBEARER).
enum SASLMechanismEncoding {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes bytes as base64 with padding (RFC 4648 §4).
    static func base64(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= input.count {
            let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            output += [18, 12, 6, 0].map { alphabet[Int((value >> $0) & 0x3F)] }
            index += 3
        }
        let remaining = input.count - index
        if remaining == 1 {
            let value = UInt32(input[index]) << 16
            output += [
                alphabet[Int(value >> 18)], alphabet[Int((value >> 12) & 0x3F)], UInt8(ascii: "="), UInt8(ascii: "="),
            ]
        } else if remaining == 2 {
            let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            output += [
                alphabet[Int(value >> 18)], alphabet[Int((value >> 12) & 0x3F)], alphabet[Int((value >> 6) & 0x3F)],
                UInt8(ascii: "="),
            ]
        }
        return String(decoding: output, as: UTF8.self)
    }

    // RFC 4616 §2:
    // message   = [authzid] UTF8NUL authcid UTF8NUL passwd
    // authcid   = 1*SAFE ; MUST accept up to 255 octets
    // passwd    = 1*SAFE ; MUST accept up to 255 octets
    // SAFE      = UTF1 / UTF2 / UTF3 / UTF4 ; any UTF-8 character except NUL
    /// The base64 PLAIN initial response for a user name and password, without an authorization identity.
    /// Throws when either contains NUL (it would shift the fields) or is empty.
    static func plainInitialResponse(username: String, password: String) throws -> String {
        guard !username.isEmpty, !password.isEmpty, !username.utf8.contains(0), !password.utf8.contains(0) else {
            throw MailClientError(
                .authenticationFailed,
                "user name and password must be non-empty and must not contain NUL for SASL PLAIN"
            )
        }
        return base64([0] + Array(username.utf8) + [0] + Array(password.utf8))
    }

    // XOAUTH2 (https://developers.google.com/gmail/imap/xoauth2-protocol, RFC 7628 §3.1 for the shape):
    // message   = "user=" username %x01 "auth=Bearer " access-token %x01 %x01
    /// The base64 XOAUTH2 initial response for a user name and an access token.
    /// Throws when either is empty or contains a control character (^A would shift the fields).
    static func xoauth2InitialResponse(username: String, accessToken: String) throws -> String {
        let isClean = { (text: String) in !text.isEmpty && !text.utf8.contains { $0 < 0x20 || $0 == 0x7F } }
        guard isClean(username), isClean(accessToken) else {
            throw MailClientError(
                .authenticationFailed,
                "user name and access token must be non-empty and free of control characters for SASL XOAUTH2"
            )
        }
        return base64(Array("user=\(username)\u{1}auth=Bearer \(accessToken)\u{1}\u{1}".utf8))
    }

    /// The text of an XOAUTH2 error challenge: the server sends base64 JSON such as
    /// `{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}` (RFC 7628 §3.2.2), which the
    /// client must answer with an empty response before the final failure arrives. Returns the decoded JSON, or
    /// the challenge as sent when it is not base64 UTF-8.
    static func xoauth2ErrorText(challenge: String) -> String {
        let trimmed = challenge.trimmingCharacters(in: .whitespaces)
        guard let data = Data(base64Encoded: trimmed), let text = String(data: data, encoding: .utf8) else {
            return trimmed
        }
        return text
    }

    /// The server's words after a failed XOAUTH2 exchange: the decoded error challenge (when there was one), then
    /// the final refusal, one per line.
    static func xoauth2ServerText(errorChallenge: String?, finalText: String) -> String {
        guard let errorChallenge, !errorChallenge.isEmpty else { return finalText }
        return "\(finalText)\n\(errorChallenge)"
    }
}
