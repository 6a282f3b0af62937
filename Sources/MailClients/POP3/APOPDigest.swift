#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The APOP digest (RFC 1939 §7): lower-case hex MD5 of the greeting's timestamp followed by the password.
///
/// MD5 (RFC 1321) is implemented here because APOP is its only use in postdesk and MailClients should not
/// carry a crypto library for it. MD5 is broken for collision resistance; APOP only guards against replay.
enum APOPDigest {
    /// `digest = lower-hex(MD5(timestamp ++ password))`, e.g. for `<1896.697170952@dbc.mtview.ca.us>` and
    /// `tanstaaf`: `c4c9334bac560ecc979e58001b3e22fb` (the example of RFC 1939 §7).
    static func digest(timestamp: String, password: String) -> String {
        hex(md5(Array(timestamp.utf8) + Array(password.utf8)))
    }

    /// Lower-case hexadecimal.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    // RFC 1321 §3.4: T[i] = floor(4294967296 * abs(sin(i))), i = 1…64.
    private static let sineTable: [UInt32] = (1...64).map {
        UInt32(truncatingIfNeeded: Int64(4_294_967_296 * abs(sin(Double($0)))))
    }
    // RFC 1321 §3.4: the per-step left rotations of the four rounds.
    private static let shifts: [UInt32] =
        [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22]
        + [5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20]
        + [4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23]
        + [6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]

    /// The 16-byte MD5 digest of `message` (RFC 1321 §3).
    static func md5(_ message: [UInt8]) -> [UInt8] {
        // §3.1–3.2: pad with 0x80 then zeros to 56 mod 64, then the bit length as 64-bit little-endian.
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bitLength = UInt64(message.count) &* 8
        for shift in stride(from: 0, to: 64, by: 8) {
            padded.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }

        // §3.3: initial buffer.
        var a0: UInt32 = 0x6745_2301
        var b0: UInt32 = 0xefcd_ab89
        var c0: UInt32 = 0x98ba_dcfe
        var d0: UInt32 = 0x1032_5476

        var words = [UInt32](repeating: 0, count: 16)
        for chunk in stride(from: 0, to: padded.count, by: 64) {
            for index in 0..<16 {
                let base = chunk + index * 4
                words[index] =
                    UInt32(padded[base]) | UInt32(padded[base + 1]) << 8 | UInt32(padded[base + 2]) << 16
                    | UInt32(padded[base + 3]) << 24
            }
            var a = a0
            var b = b0
            var c = c0
            var d = d0
            // §3.4: four rounds of sixteen steps with F, G, H, I.
            for step in 0..<64 {
                var f: UInt32
                let g: Int
                switch step {
                case 0..<16:
                    f = (b & c) | (~b & d)
                    g = step
                case 16..<32:
                    f = (d & b) | (~d & c)
                    g = (5 * step + 1) % 16
                case 32..<48:
                    f = b ^ c ^ d
                    g = (3 * step + 5) % 16
                default:
                    f = c ^ (b | ~d)
                    g = (7 * step) % 16
                }
                f = f &+ a &+ sineTable[step] &+ words[g]
                a = d
                d = c
                c = b
                let shift = shifts[step]
                b = b &+ ((f << shift) | (f >> (32 - shift)))
            }
            a0 = a0 &+ a
            b0 = b0 &+ b
            c0 = c0 &+ c
            d0 = d0 &+ d
        }
        // §3.5: output a, b, c, d, each little-endian.
        var digest: [UInt8] = []
        for word in [a0, b0, c0, d0] {
            for shift in stride(from: 0, to: 32, by: 8) {
                digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift)))
            }
        }
        return digest
    }
}
