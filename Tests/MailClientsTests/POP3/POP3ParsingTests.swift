import Testing

@testable import MailClients

@Suite("POP3 parsing")
struct POP3ParsingTests {
    @Test(
        "response codes are read from the status text (RFC 2449 §8, RFC 3206)",
        arguments: [
            ("[LOGIN-DELAY] minimum time between mail checks violation", "LOGIN-DELAY"),
            ("[IN-USE] Do you have another POP session running?", "IN-USE"),
            ("[AUTH] Authentication failed.", "AUTH"),
            ("[SYS/TEMP] Try again later", "SYS/TEMP"),
            ("[SYS/PERM] Your account is disabled", "SYS/PERM"),
            ("-ERR [AUTH] Authentication failed.", "AUTH"),
            ("Logon failure: unknown user name or bad password.", nil),
            ("[] empty", nil),
            ("[SYS/] empty level", nil),
            ("[UNCLOSED text", nil),
            ("no code [AUTH] later", nil),
        ] as [(String, String?)]
    )
    func responseCode(_ text: String, _ expected: String?) {
        #expect(POP3Response.responseCode(in: text) == expected)
    }

    @Test(
        "the APOP timestamp is taken from the greeting (RFC 1939 §7)",
        arguments: [
            ("POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "<1896.697170952@dbc.mtview.ca.us>"),
            (
                "Dovecot (Debian) ready. <146a.d.6b019401.WFoua1/Z+rdEvr0etT6zCg==@vm>",
                "<146a.d.6b019401.WFoua1/Z+rdEvr0etT6zCg==@vm>"
            ),
            ("Dovecot ready.", nil),
            ("ready <no-at-sign>", nil),
            ("ready <unclosed@x", nil),
            ("ready <sp ace@x>", nil),
        ] as [(String, String?)]
    )
    func apopTimestamp(_ text: String, _ expected: String?) {
        #expect(POP3Response(status: .ok, text: text).apopTimestamp == expected)
    }

    @Test("the status line is rebuilt verbatim")
    func statusLine() {
        #expect(POP3Response(status: .err, text: "[IN-USE] locked").statusLine == "-ERR [IN-USE] locked")
        #expect(POP3Response(status: .ok, text: "").statusLine == "+OK")
    }

    @Test("Dovecot's CAPA answer (real transcript) is understood")
    func dovecotCAPA() {
        let body = Array(
            "CAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN LOGIN\r\n"
                .utf8)
        let capabilities = POP3Capabilities.parse(capaBody: body)
        #expect(capabilities.supportsSTLS)
        #expect(capabilities.saslMechanisms == ["PLAIN", "LOGIN"])
        #expect(capabilities.supportsUser && capabilities.supportsUIDL && capabilities.supportsTop)
        #expect(
            capabilities.supportsResponseCodes && capabilities.supportsAuthResponseCode
                && capabilities.supportsPipelining)
        #expect(capabilities.loginDelaySeconds == nil)
    }

    @Test("Outlook/Gmail-style CAPA with LOGIN-DELAY, EXPIRE and IMPLEMENTATION")
    func providerCAPA() {
        let body = Array(
            "USER\r\nUIDL\r\nTOP\r\nSASL PLAIN XOAUTH2\r\nLOGIN-DELAY 900\r\nEXPIRE NEVER\r\nIMPLEMENTATION Outlook Cloud\r\n.bad\r\n\r\n"
                .utf8
        )
        let capabilities = POP3Capabilities.parse(capaBody: body)
        #expect(capabilities.loginDelaySeconds == 900)
        #expect(capabilities.expire == "NEVER")
        #expect(capabilities.implementation == "Outlook Cloud")
        #expect(capabilities.saslMechanisms == ["PLAIN", "XOAUTH2"])
        #expect(!capabilities.supportsSTLS)
        #expect(capabilities.tags[".BAD"] == nil)
    }

    @Test(
        "STAT and LIST lines give number and size (RFC 1939 §5)",
        arguments: [("2 320", 2, 320), ("0 0", 0, 0), ("1 120 extra info", 1, 120)] as [(String, Int, Int)]
    )
    func numberAndSize(_ text: String, _ number: Int, _ size: Int) throws {
        let (n, s) = try POP3Listing.parseNumberAndSize(text, what: "STAT")
        #expect(n == number && s == size)
    }

    @Test("malformed STAT/LIST/UIDL answers are .protocolViolation", arguments: ["", "2", "x 3", "2 -1", "-1 2"])
    func malformedNumbers(_ text: String) {
        #expect(throws: MailClientError.self) { try POP3Listing.parseNumberAndSize(text, what: "LIST") }
    }

    @Test("UIDL lines give number and unique id (RFC 1939 §7)")
    func uniqueIDs() throws {
        #expect(try POP3Listing.parseUniqueID("1 000000016b01932b") == (1, "000000016b01932b"))
        #expect(try POP3Listing.parseUniqueID("2 QhdPYR:00WBw1Ph7x7") == (2, "QhdPYR:00WBw1Ph7x7"))
        for bad in ["1", "x abc", "0 abc", "1 caf\u{e9}"] {
            #expect(throws: MailClientError.self) { try POP3Listing.parseUniqueID(bad) }
        }
    }

    @Test("body lines split on CRLF only")
    func lines() {
        #expect(POP3Listing.lines(of: Array("a\r\nb\r\n".utf8)) == ["a", "b"])
        #expect(POP3Listing.lines(of: []) == [])
        #expect(POP3Listing.lines(of: Array("a\nb\r\n".utf8)) == ["a\nb"])
    }
}

@Suite("APOP digest")
struct APOPDigestTests {
    @Test(
        "MD5 matches the RFC 1321 §A.5 test suite",
        arguments: [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f"
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a"
            ),
        ]
    )
    func md5(_ input: String, _ expected: String) {
        #expect(APOPDigest.hex(APOPDigest.md5(Array(input.utf8))) == expected)
    }

    @Test("the APOP digest of RFC 1939 §7's example")
    func rfcExample() {
        #expect(
            APOPDigest.digest(timestamp: "<1896.697170952@dbc.mtview.ca.us>", password: "tanstaaf")
                == "c4c9334bac560ecc979e58001b3e22fb"
        )
    }
}
