import Testing

@testable import MailClients

@Suite("SMTP replies and enhanced status codes")
struct SMTPReplyTests {
    @Test(
        "enhanced status codes are read when present and consistent (RFC 3463, RFC 2034)",
        arguments: [
            (250, "2.0.0 Ok: queued as 4F2A1", "2.0.0"),
            (535, "5.7.8 Username and Password not accepted.", "5.7.8"),
            (451, "4.3.0 Temporary failure", "4.3.0"),
            (250, "2.1.100 wide", "2.1.100"),
            (250, "Ok", nil),
            (550, "2.0.0 class differs from the reply code", nil),
            (250, "2.0 too short", nil),
            (250, "2.0.1234 detail too long", nil),
            (250, "3.0.0 class 3 does not exist", nil),
            (250, "", nil),
        ] as [(Int, String, String?)]
    )
    func enhancedStatusCode(_ code: Int, _ text: String, _ expected: String?) {
        let reply = SMTPReply(code: code, lines: [text])
        #expect(reply.enhancedStatusCode?.description == expected)
    }

    @Test("verbatim text reproduces the server's lines")
    func verbatim() {
        #expect(SMTPReply(code: 250, lines: ["a", "b"]).verbatim == "250-a\n250 b")
        #expect(SMTPReply(code: 221, lines: ["2.0.0 Bye"]).verbatim == "221 2.0.0 Bye")
        #expect(SMTPReply(code: 250, lines: [""]).verbatim == "250")
    }

    @Test("reply classes follow the first digit (RFC 5321 §4.2.1)")
    func classes() {
        #expect(SMTPReply(code: 250, lines: []).isPositiveCompletion)
        #expect(SMTPReply(code: 354, lines: []).isPositiveIntermediate)
        #expect(SMTPReply(code: 421, lines: []).isTransientFailure)
        #expect(SMTPReply(code: 554, lines: []).isPermanentFailure)
    }
}
