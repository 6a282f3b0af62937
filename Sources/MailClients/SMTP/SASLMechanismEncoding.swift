/// The pieces of SASL that SMTP and POP3 share: base64 (RFC 4648 §4) and the PLAIN message (RFC 4616 §2).
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
}
