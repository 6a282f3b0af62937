import Testing

@testable import MailClients

private let greeting = IMAPResponse.untagged(
    .status(IMAPStatusResponse(kind: .ok, code: nil, text: "ready", rawText: "ready"))
)

private func tagged(_ tag: String, _ kind: IMAPStatusKind = .ok) -> IMAPResponse {
    .tagged(tag: tag, IMAPStatusResponse(kind: kind, code: nil, text: "", rawText: ""))
}

private func ready() throws -> IMAPClientStateMachine {
    var machine = IMAPClientStateMachine()
    #expect(try machine.receive(greeting) == .forward)
    return machine
}

@Suite("IMAP client state machine")
struct IMAPClientStateMachineTests {
    @Test("the first response must be a greeting")
    func greetingRequired() {
        var machine = IMAPClientStateMachine()
        #expect(throws: MailClientError.self) { try machine.receive(tagged("A1")) }
    }

    @Test("a synchronizing literal waits for the server's +")
    func literalContinuation() throws {
        var machine = try ready()
        let command = IMAPCommand(
            tag: "A1",
            [.raw("LOGIN"), .string(Array("u".utf8)), .secret(.init(bytes: Array("p\"w".utf8), asString: true))]
        )
        let first = try machine.sendCommand(command, literalPlus: false)
        #expect(String(decoding: first, as: UTF8.self) == "A1 LOGIN \"u\" {3}\r\n")
        #expect(try machine.receive(.continuation("Ready")) == .write(Array("p\"w\r\n".utf8), lastChunk: true))
        #expect(try machine.receive(tagged("A1")) == .forward)
        #expect(machine.state == .ready)
    }

    @Test("a refused literal ends the command")
    func refusedLiteral() throws {
        var machine = try ready()
        let command = IMAPCommand(tag: "A1", [.raw("LOGIN"), .string(Array("ü".utf8)), .string(Array("x".utf8))])
        _ = try machine.sendCommand(command, literalPlus: false)
        #expect(try machine.receive(tagged("A1", .bad)) == .forward)
        #expect(machine.state == .ready)
    }

    @Test("only one command at a time")
    func oneAtATime() throws {
        var machine = try ready()
        _ = try machine.sendCommand(IMAPCommand(tag: "A1", [.raw("NOOP")]), literalPlus: false)
        #expect(throws: MailClientError.self) {
            try machine.sendCommand(IMAPCommand(tag: "A2", [.raw("NOOP")]), literalPlus: false)
        }
    }

    @Test("a tagged response for another tag is a protocol violation")
    func wrongTag() throws {
        var machine = try ready()
        _ = try machine.sendCommand(IMAPCommand(tag: "A1", [.raw("NOOP")]), literalPlus: false)
        #expect(throws: MailClientError.self) { try machine.receive(tagged("A7")) }
    }

    @Test("an unexpected + is a protocol violation")
    func unexpectedContinuation() throws {
        var machine = try ready()
        _ = try machine.sendCommand(IMAPCommand(tag: "A1", [.raw("NOOP")]), literalPlus: false)
        #expect(throws: MailClientError.self) { try machine.receive(.continuation("")) }
    }

    @Test("DONE asked for before + idling is sent when the + arrives")
    func earlyDone() throws {
        var machine = try ready()
        _ = try machine.sendIdle(tag: "A1")
        #expect(machine.sendDone() == nil)
        #expect(try machine.receive(.continuation("idling")) == .writeDone)
        #expect(machine.sendDone() == nil)
        #expect(try machine.receive(.untagged(.exists(3))) == .forward)
        #expect(try machine.receive(tagged("A1")) == .forward)
        #expect(machine.state == .ready)
    }

    @Test("DONE is sent once")
    func doneOnce() throws {
        var machine = try ready()
        _ = try machine.sendIdle(tag: "A1")
        #expect(try machine.receive(.continuation("idling")) == .forward)
        #expect(machine.sendDone() == Array("DONE\r\n".utf8))
        #expect(machine.sendDone() == nil)
    }

    @Test("after the STARTTLS go-ahead everything is dropped until the handshake completes")
    func startTLSHandoff() throws {
        var machine = try ready()
        _ = try machine.sendCommand(IMAPCommand(tag: "A1", [.raw("STARTTLS")], startsTLS: true), literalPlus: false)
        #expect(try machine.receive(tagged("A1")) == .forwardAndStartTLSHandoff)
        #expect(try machine.receive(.untagged(.capability(["IMAP4REV1", "AUTH=PLAIN"]))) == .drop)
        #expect(try machine.receive(tagged("A2")) == .drop)
        machine.tlsHandshakeCompleted()
        #expect(machine.state == .ready)
    }

    @Test("a refused STARTTLS does not start the hand-off")
    func startTLSRefused() throws {
        var machine = try ready()
        _ = try machine.sendCommand(IMAPCommand(tag: "A1", [.raw("STARTTLS")], startsTLS: true), literalPlus: false)
        #expect(try machine.receive(tagged("A1", .no)) == .forward)
        #expect(machine.state == .ready)
    }

    @Test("AUTHENTICATE continuations go to the connection")
    func authenticateContinuation() throws {
        var machine = try ready()
        _ = try machine.sendCommand(
            IMAPCommand(tag: "A1", [.raw("AUTHENTICATE PLAIN")], expectsContinuations: true),
            literalPlus: false
        )
        #expect(try machine.receive(.continuation("")) == .forward)
        try machine.sendContinuation()
        #expect(try machine.receive(tagged("A1")) == .forward)
        #expect(throws: MailClientError.self) { try machine.sendContinuation() }
    }

    @Test("the shutdown farewell ends IDLE with DONE before LOGOUT, and sends nothing before the greeting")
    func farewell() throws {
        var idling = try ready()
        _ = try idling.sendIdle(tag: "A1")
        _ = try idling.receive(.continuation("idling"))
        #expect(String(decoding: idling.sendFarewell(tag: "A2"), as: UTF8.self) == "DONE\r\nA2 LOGOUT\r\n")
        #expect(idling.state == .closed)
        var plain = try ready()
        #expect(String(decoding: plain.sendFarewell(tag: "A3"), as: UTF8.self) == "A3 LOGOUT\r\n")
        var fresh = IMAPClientStateMachine()
        #expect(fresh.sendFarewell(tag: "A4").isEmpty)
    }
}
