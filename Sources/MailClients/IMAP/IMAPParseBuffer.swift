/// A read cursor over one complete response frame, with the IMAP lexical rules (RFC 3501 §9).
///
/// It is a value: a caller that wants to try a parse and back out copies it first.
struct IMAPParseBuffer {
    let bytes: [UInt8]
    private(set) var index: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.index = 0
    }

    var isAtEnd: Bool { self.index >= self.bytes.count }

    func peek() -> UInt8? {
        self.index < self.bytes.count ? self.bytes[self.index] : nil
    }

    mutating func advance() {
        if self.index < self.bytes.count { self.index += 1 }
    }

    /// A protocol violation at the current position, quoting a little context (never more than 40 bytes).
    func violation(_ what: String) -> MailClientError {
        let start = max(0, self.index - 20)
        let end = min(self.bytes.count, self.index + 20)
        let visible = self.bytes[start..<end].flatMap { byte -> [UInt8] in
            switch byte {
            case UInt8(ascii: "\r"): return Array("\\r".utf8)
            case UInt8(ascii: "\n"): return Array("\\n".utf8)
            default: return [byte]
            }
        }
        let context = String(decoding: visible, as: UTF8.self)
        return MailClientError(
            .protocolViolation,
            "unparseable IMAP response at byte \(self.index): \(what) (near \"\(context)\")"
        )
    }

    mutating func expect(_ byte: UInt8) throws {
        guard self.peek() == byte else {
            throw self.violation("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        self.index += 1
    }

    mutating func expectSpace() throws {
        try self.expect(UInt8(ascii: " "))
    }

    mutating func expectCRLF() throws {
        try self.expect(UInt8(ascii: "\r"))
        try self.expect(UInt8(ascii: "\n"))
    }

    mutating func readWhile(_ predicate: (UInt8) -> Bool) -> [UInt8] {
        let start = self.index
        while self.index < self.bytes.count, predicate(self.bytes[self.index]) {
            self.index += 1
        }
        return Array(self.bytes[start..<self.index])
    }

    mutating func readWhileNonEmpty(_ what: String, _ predicate: (UInt8) -> Bool) throws -> [UInt8] {
        let result = self.readWhile(predicate)
        guard !result.isEmpty else { throw self.violation("expected \(what)") }
        return result
    }

    // text            = 1*TEXT-CHAR
    // TEXT-CHAR       = <any CHAR except CR and LF>   (RFC 9051 allows UTF-8 here)
    /// The rest of the line up to (not including) CR; possibly empty.
    mutating func readText() -> String {
        String(decoding: self.readWhile { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
    }

    // atom            = 1*ATOM-CHAR
    // ATOM-CHAR       = <any CHAR except atom-specials>
    // atom-specials   = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
    mutating func readAtom() throws -> String {
        String(decoding: try self.readWhileNonEmpty("an atom", Self.isAtomChar), as: UTF8.self)
    }

    // number          = 1*DIGIT   ; unsigned 32-bit integer (RFC 9051: number64 for sizes)
    mutating func readNumber64() throws -> UInt64 {
        let digits = try self.readWhileNonEmpty("a number", Self.isDigit)
        guard digits.count <= 19 else { throw self.violation("number too long") }
        var value: UInt64 = 0
        for digit in digits {
            value = value * 10 + UInt64(digit - UInt8(ascii: "0"))
        }
        return value
    }

    mutating func readNumber32() throws -> UInt32 {
        let value = try self.readNumber64()
        guard value <= UInt64(UInt32.max) else { throw self.violation("number above 4294967295") }
        return UInt32(value)
    }

    // quoted          = DQUOTE *QUOTED-CHAR DQUOTE
    // QUOTED-CHAR     = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials
    mutating func readQuoted() throws -> String {
        String(decoding: try self.readQuotedBytes(), as: UTF8.self)
    }

    mutating func readQuotedBytes() throws -> [UInt8] {
        try self.expect(UInt8(ascii: "\""))
        var result: [UInt8] = []
        while let byte = self.peek() {
            switch byte {
            case UInt8(ascii: "\""):
                self.index += 1
                return result
            case UInt8(ascii: "\\"):
                self.index += 1
                guard let escaped = self.peek(), escaped == UInt8(ascii: "\"") || escaped == UInt8(ascii: "\\") else {
                    throw self.violation("bad escape in a quoted string")
                }
                result.append(escaped)
                self.index += 1
            case UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                throw self.violation("line break inside a quoted string")
            default:
                result.append(byte)
                self.index += 1
            }
        }
        throw self.violation("unterminated quoted string")
    }

    // literal         = "{" number "}" CRLF *CHAR8   ; number = count of CHAR8s
    // literal8        = "~{" number "}" CRLF *OCTET  (RFC 3516 §4.2)
    mutating func readLiteral() throws -> [UInt8] {
        if self.peek() == UInt8(ascii: "~") { self.index += 1 }
        try self.expect(UInt8(ascii: "{"))
        let size = try self.readNumber64()
        if self.peek() == UInt8(ascii: "+") { self.index += 1 }
        try self.expect(UInt8(ascii: "}"))
        try self.expectCRLF()
        guard size <= UInt64(self.bytes.count - self.index) else {
            throw self.violation("literal of \(size) bytes runs past the response")
        }
        let end = self.index + Int(size)
        let result = Array(self.bytes[self.index..<end])
        self.index = end
        return result
    }

    // string          = quoted / literal
    mutating func readString() throws -> [UInt8] {
        switch self.peek() {
        case UInt8(ascii: "\""):
            return try self.readQuotedBytes()
        case UInt8(ascii: "{"), UInt8(ascii: "~"):
            return try self.readLiteral()
        default:
            throw self.violation("expected a string")
        }
    }

    // nstring         = string / nil
    // nil             = "NIL"
    mutating func readNString() throws -> [UInt8]? {
        if let byte = self.peek(), byte == UInt8(ascii: "N") || byte == UInt8(ascii: "n") {
            let word = try self.readAtom()
            guard word.uppercased() == "NIL" else { throw self.violation("expected NIL or a string") }
            return nil
        }
        return try self.readString()
    }

    /// Skips one value we do not interpret: a string, NIL/atom/number, or a parenthesized list (nested).
    ///
    /// Elements are separated by SP, except lists side by side: RFC 3501 §9 `env-to = "(" 1*address ")"` and
    /// `body-type-mpart = 1*body SP media-subtype` put `)(` with nothing between (an ENVELOPE with two addresses,
    /// a multipart BODYSTRUCTURE).
    mutating func skipValue(depth: Int = 0) throws {
        guard depth < 64 else { throw self.violation("lists nested too deeply") }
        switch self.peek() {
        case UInt8(ascii: "("):
            self.index += 1
            var first = true
            var previousWasList = false
            while self.peek() != UInt8(ascii: ")") {
                if !first, !(previousWasList && self.peek() == UInt8(ascii: "(")) { try self.expectSpace() }
                first = false
                previousWasList = self.peek() == UInt8(ascii: "(")
                try self.skipValue(depth: depth + 1)
            }
            self.index += 1
        case UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "~"):
            _ = try self.readString()
        case UInt8(ascii: "\\"):
            self.index += 1
            _ = self.readWhile(Self.isAtomChar)
        default:
            // atom, number, NIL, or a name with [section] such as BODY[HEADER]
            _ = try self.readWhileNonEmpty("a value") {
                Self.isAtomChar($0) || $0 == UInt8(ascii: "]")
            }
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// ATOM-CHAR: any CHAR except atom-specials, where resp-specials = "]" and list-wildcards = "%" / "*".
    static func isAtomChar(_ byte: UInt8) -> Bool {
        guard byte > 0x20, byte < 0x7F else { return false }
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "*"),
            UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"):
            return false
        default:
            return true
        }
    }

    // ASTRING-CHAR    = ATOM-CHAR / resp-specials
    static func isAStringChar(_ byte: UInt8) -> Bool {
        isAtomChar(byte) || byte == UInt8(ascii: "]")
    }
}
