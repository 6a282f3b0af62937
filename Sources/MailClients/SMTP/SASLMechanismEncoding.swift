import Foundation

/// The pieces of SASL that IMAP, SMTP and POP3 share: base64 (RFC 4648 §4), the PLAIN message (RFC 4616 §2), the
/// OAUTHBEARER message (RFC 7628) and the XOAUTH2 message (Google's and Microsoft's OAuth 2.0 mechanism, shaped like
/// OAUTHBEARER), and the error challenge both send when they refuse a token.
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
        try requireClean(username: username, accessToken: accessToken, mechanism: "XOAUTH2")
        return base64(Array("user=\(username)\u{1}auth=Bearer \(accessToken)\u{1}\u{1}".utf8))
    }

    // RFC 7628 §3.1:
    // kvsep          = %x01
    // key            = 1*(ALPHA)
    // value          = *(VCHAR / SP / HTAB / CR / LF )
    // kvpair         = key "=" value kvsep
    // client-resp    = (gs2-header kvsep *kvpair kvsep) / kvsep
    // gs2-header     = gs2-cb-flag "," [ gs2-authzid ] ","     (RFC 5801 §4; gs2-cb-flag "n": no channel binding)
    // gs2-authzid    = "a=" saslname
    // saslname       = 1*(UTF8-char-safe / "=2C" / "=3D")
    // host: "host" "=" 1*VCHAR,  port: "port" "=" 1*DIGIT,  auth: "auth" "=" "Bearer" SP b64token   (RFC 7628 §3.1)
    /// The base64 OAUTHBEARER initial response: `n,a=<user>,^Ahost=<host>^Aport=<port>^Aauth=Bearer <token>^A^A`,
    /// the user name with `,` and `=` escaped. `host` and `port` are optional (§3.1) and left out when `host` is not
    /// all VCHAR. Throws when the user name or token is empty or contains a control character.
    static func oauthBearerInitialResponse(username: String, accessToken: String, host: String?, port: Int?) throws
        -> String
    {
        try requireClean(username: username, accessToken: accessToken, mechanism: "OAUTHBEARER")
        var message = "n,a=\(gs2SASLName(username)),\u{1}"
        if let host, !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            message += "host=\(host)\u{1}"
            if let port, port > 0 { message += "port=\(port)\u{1}" }
        }
        message += "auth=Bearer \(accessToken)\u{1}\u{1}"
        return base64(Array(message.utf8))
    }

    // RFC 5801 §4: saslname = 1*(UTF8-char-safe / "=2C" / "=3D"); "," and "=" MUST be encoded as "=2C" and "=3D".
    /// A user name as a GS2 saslname: `=` becomes `=3D` and `,` becomes `=2C` (in that order, so no `=` is doubled).
    static func gs2SASLName(_ name: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(name.utf8.count)
        for character in name.unicodeScalars {
            switch character {
            case "=": escaped += "=3D"
            case ",": escaped += "=2C"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// The base64 initial response of `mechanism`; `host` and `port` are only used by OAUTHBEARER.
    static func oauthInitialResponse(
        _ mechanism: SASLOAuthMechanism, username: String, accessToken: String, host: String?, port: Int?
    ) throws -> String {
        switch mechanism {
        case .xoauth2:
            try xoauth2InitialResponse(username: username, accessToken: accessToken)
        case .oauthBearer:
            try oauthBearerInitialResponse(username: username, accessToken: accessToken, host: host, port: port)
        }
    }

    // RFC 7628 §3.2.3: "the client MUST then send either an additional client response consisting of a single
    // %x01 (control A) character to the server in order to allow the server to finish the exchange or a SASL
    // abort message"; XOAUTH2 (Google's description) answers with an empty response instead.
    /// The base64 line that answers the server's error challenge: `AQ==` (a lone %x01) for OAUTHBEARER, empty for
    /// XOAUTH2.
    static func errorChallengeAnswer(_ mechanism: SASLOAuthMechanism) -> String {
        switch mechanism {
        case .xoauth2: ""
        case .oauthBearer: base64([0x01])
        }
    }

    private static func requireClean(username: String, accessToken: String, mechanism: String) throws {
        let isClean = { (text: String) in !text.isEmpty && !text.utf8.contains { $0 < 0x20 || $0 == 0x7F } }
        guard isClean(username), isClean(accessToken) else {
            throw MailClientError(
                .authenticationFailed,
                "user name and access token must be non-empty and free of control characters for SASL \(mechanism)"
            )
        }
    }

    /// The most characters of an error challenge's text kept in `serverText`.
    static let maximumErrorChallengeText = 2048

    /// What an OAUTHBEARER or XOAUTH2 error challenge says: the server sends base64 JSON such as
    /// `{"status":"invalid_token","scope":"mail"}` or Google's `{"status":"401","schemes":"bearer","scope":…}`
    /// (RFC 7628 §3.2.2). `text` is the decoded JSON, or the challenge as sent when it is not base64 UTF-8, cut to
    /// `maximumErrorChallengeText` characters; `failure` is the decoded JSON, or `nil` when it is not that JSON.
    static func oauthErrorChallenge(_ challenge: String) -> (text: String, failure: OAuthBearerFailure?) {
        let trimmed = challenge.trimmingCharacters(in: .whitespaces)
        guard let data = Data(base64Encoded: trimmed), let text = String(data: data, encoding: .utf8) else {
            return (bounded(trimmed), nil)
        }
        return (bounded(text), OAuthBearerFailure.decode(json: data))
    }

    /// `text` without control characters other than tab (a hostile challenge must not forge log lines), at most
    /// `maximumErrorChallengeText` characters.
    private static func bounded(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars.prefix(maximumErrorChallengeText) {
            result.unicodeScalars.append((scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F ? "?" : scalar)
        }
        return result
    }

    /// The server's words after a failed OAuth exchange: the final refusal, then the decoded error challenge (when
    /// there was one), one per line.
    static func oauthServerText(errorChallenge: String?, finalText: String) -> String {
        guard let errorChallenge, !errorChallenge.isEmpty else { return finalText }
        return "\(finalText)\n\(errorChallenge)"
    }
}
