import Testing

@testable import LMTPServer

/// One command line and how it parses.
struct CommandFixture: CustomTestStringConvertible, Sendable {
    var line: String
    var command: LMTPCommand
    var testDescription: String { line }
}

let commandFixtures: [CommandFixture] = [
    .init(line: "LHLO mta.example", command: .lhlo(domain: "mta.example")),
    .init(line: "lhlo [127.0.0.1]", command: .lhlo(domain: "[127.0.0.1]")),
    .init(line: "EHLO mta.example", command: .smtpGreeting(verb: "EHLO")),
    .init(line: "MAIL FROM:<a@b.test>", command: .mail(reversePath: "a@b.test", parameters: [])),
    .init(line: "mail from: <a@b.test>", command: .mail(reversePath: "a@b.test", parameters: [])),
    .init(line: "MAIL FROM:<>", command: .mail(reversePath: "", parameters: [])),
    .init(
        line: "MAIL FROM:<a@b.test> SIZE=1234 BODY=8bitmime",
        command: .mail(reversePath: "a@b.test", parameters: [.size(1234), .body(.eightBitMIME)])),
    .init(
        line: "MAIL FROM:<a@b.test> SIZE=12x",
        command: .mail(reversePath: "a@b.test", parameters: [.invalid("SIZE needs a number")])),
    .init(
        line: "MAIL FROM:<a@b.test> SIZE=99999999999999999999",
        command: .mail(reversePath: "a@b.test", parameters: [.size(Int.max)])),
    .init(
        line: "MAIL FROM:<a@b.test> RET=HDRS",
        command: .mail(reversePath: "a@b.test", parameters: [.unrecognized("RET")])),
    .init(line: "MAIL FROM:<@hop.test,@two.test:a@b.test>", command: .mail(reversePath: "a@b.test", parameters: [])),
    .init(
        line: "MAIL FROM:<\"odd > name\"@b.test>", command: .mail(reversePath: "\"odd > name\"@b.test", parameters: [])),
    .init(line: "MAIL FROM:a@b.test", command: .badPath(verb: "MAIL")),
    .init(line: "MAIL FROM:<a@b.test", command: .badPath(verb: "MAIL")),
    .init(line: "MAIL FROM:<a@b.test>x", command: .badPath(verb: "MAIL")),
    .init(line: "MAIL FROM:<nodomain>", command: .badPath(verb: "MAIL")),
    .init(line: "MAIL TO:<a@b.test>", command: .syntaxError(verb: "MAIL", reason: "use MAIL FROM:<address>")),
    .init(line: "RCPT TO:<help@desk.test>", command: .rcpt(forwardPath: "help@desk.test", hasParameters: false)),
    .init(line: "RCPT TO:<Postmaster>", command: .rcpt(forwardPath: "Postmaster", hasParameters: false)),
    .init(
        line: "RCPT TO:<help@desk.test> NOTIFY=NEVER",
        command: .rcpt(forwardPath: "help@desk.test", hasParameters: true)),
    .init(line: "RCPT TO:<>", command: .badPath(verb: "RCPT")),
    .init(line: "DATA", command: .data),
    .init(line: "data", command: .data),
    .init(line: "RSET", command: .rset),
    .init(line: "NOOP anything", command: .noop),
    .init(line: "QUIT", command: .quit),
    .init(line: "VRFY someone", command: .vrfy),
    .init(line: "STARTTLS", command: .unknown),
    .init(line: "", command: .unknown),
    .init(line: "RCPT TO:<h\u{e9}lp@desk.test>", command: .unknown),
]

@Suite("LMTP command parsing")
struct LMTPCommandTests {
    @Test("command lines", arguments: commandFixtures)
    func parse(_ fixture: CommandFixture) {
        #expect(LMTPCommand.parse(Array(fixture.line.utf8)) == fixture.command)
    }

    @Test("a path of 100,000 quotes parses in linear time without recursion")
    func longPath() {
        let line = "RCPT TO:<" + String(repeating: "\"", count: 100_000) + "@x>"
        #expect(
            LMTPCommand.parse(Array(line.utf8))
                == .rcpt(forwardPath: String(line.dropFirst(9).dropLast()), hasParameters: false))
    }
}
