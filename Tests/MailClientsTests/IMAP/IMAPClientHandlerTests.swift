import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

@testable import MailClients

@Suite("IMAP client handler")
struct IMAPClientHandlerTests {
    private func makeChannel(limits: IMAPFrameLimits = IMAPFrameLimits()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            IMAPClientHandler(commandTimeout: .seconds(5), limits: limits)
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 143)).wait()
        return channel
    }

    private func serverSays(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    private func clientWrote(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += buffer.readString(length: buffer.readableBytes) ?? ""
        }
        return text
    }

    private func responses(_ channel: EmbeddedChannel) throws -> [IMAPResponse] {
        var result: [IMAPResponse] = []
        while let response = try channel.readInbound(as: IMAPResponse.self) {
            result.append(response)
        }
        return result
    }

    @Test("greeting, a command with a synchronizing literal, and its completion")
    func literalDialogue() throws {
        let channel = try self.makeChannel()
        try self.serverSays(channel, "* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n")
        #expect(try self.responses(channel).count == 1)

        let command = IMAPCommand(
            tag: "A1",
            [.raw("LOGIN"), .string(Array("u".utf8)), .secret(.init(bytes: Array("pä".utf8), asString: true))]
        )
        try channel.writeOutbound(IMAPClientRequest.command(command, literalPlus: false))
        #expect(try self.clientWrote(channel) == "A1 LOGIN \"u\" {3}\r\n")
        try self.serverSays(channel, "+ Ready for literal data\r\n")
        #expect(try self.clientWrote(channel) == "pä\r\n")
        #expect(try self.responses(channel).isEmpty, "the + for a literal is handled inside the handler")
        try self.serverSays(channel, "A1 OK [CAPABILITY IMAP4rev1 IDLE UIDPLUS] Logged in\r\n")
        let done = try self.responses(channel)
        guard case .tagged("A1", let status) = done.first else {
            Issue.record("expected the tagged OK, got \(done)")
            return
        }
        #expect(status.code == .capability(["IMAP4REV1", "IDLE", "UIDPLUS"]))
        #expect(try channel.finish().isClean)
    }

    @Test("IDLE: the + is forwarded, DONE is written on request, the tagged OK completes it")
    func idle() throws {
        let channel = try self.makeChannel()
        try self.serverSays(channel, "* OK ready\r\n")
        _ = try self.responses(channel)
        try channel.writeOutbound(IMAPClientRequest.idle(tag: "A2", timeout: .seconds(60)))
        #expect(try self.clientWrote(channel) == "A2 IDLE\r\n")
        try self.serverSays(channel, "+ idling\r\n* 4 EXISTS\r\n")
        #expect(try self.responses(channel) == [.continuation("idling"), .untagged(.exists(4))])
        try channel.writeOutbound(IMAPClientRequest.done)
        try channel.writeOutbound(IMAPClientRequest.done)
        #expect(try self.clientWrote(channel) == "DONE\r\n")
        try self.serverSays(channel, "A2 OK Idle completed.\r\n")
        #expect(try self.responses(channel).count == 1)
        #expect(try channel.finish().isClean)
    }

    @Test("IDLE ends itself with DONE when its timeout passes")
    func idleTimeout() throws {
        let channel = try self.makeChannel()
        try self.serverSays(channel, "* OK ready\r\n")
        _ = try self.responses(channel)
        try channel.writeOutbound(IMAPClientRequest.idle(tag: "A2", timeout: .seconds(30)))
        try self.serverSays(channel, "+ idling\r\n")
        _ = try self.clientWrote(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(try self.clientWrote(channel).isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try self.clientWrote(channel) == "DONE\r\n")
        try self.serverSays(channel, "A2 OK Idle completed.\r\n")
        #expect(try self.responses(channel).count == 2)
        #expect(try channel.finish().isClean)
    }

    @Test("plaintext injected after the STARTTLS go-ahead never reaches the connection")
    func startTLSInjection() throws {
        let channel = try self.makeChannel()
        try self.serverSays(channel, "* OK ready\r\n")
        _ = try self.responses(channel)
        try channel.writeOutbound(
            IMAPClientRequest.command(IMAPCommand(tag: "A1", [.raw("STARTTLS")], startsTLS: true), literalPlus: false)
        )
        _ = try self.clientWrote(channel)
        // The go-ahead, an injected complete response and an injected partial line in one segment.
        try self.serverSays(channel, "A1 OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n* OK [ALE")
        try self.serverSays(channel, "RT] injected later\r\n")
        #expect(try self.responses(channel).count == 1, "only the go-ahead itself")
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        try channel.writeOutbound(
            IMAPClientRequest.command(IMAPCommand(tag: "A2", [.raw("CAPABILITY")]), literalPlus: false)
        )
        #expect(try self.clientWrote(channel) == "A2 CAPABILITY\r\n")
        try self.serverSays(channel, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA2 OK done\r\n")
        #expect(try self.responses(channel).count == 2, "the buffer was reset: no injected bytes prefix the frame")
        #expect(try channel.finish().isClean)
    }

    @Test("no greeting within the deadline closes the channel with a timeout")
    func greetingTimeout() throws {
        let channel = try self.makeChannel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(throws: MailClientError.self) { try channel.throwIfErrorCaught() }
        #expect(!channel.isActive)
    }

    @Test("a command without its tagged answer times out")
    func commandTimeout() throws {
        let channel = try self.makeChannel()
        try self.serverSays(channel, "* OK ready\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive, "the greeting deadline was cancelled")
        try channel.writeOutbound(
            IMAPClientRequest.command(IMAPCommand(tag: "A1", [.raw("NOOP")]), literalPlus: false)
        )
        try self.serverSays(channel, "* 3 EXISTS\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        var code: MailClientError.Code?
        do { try channel.throwIfErrorCaught() } catch let error as MailClientError { code = error.code }
        #expect(code == .timeout)
        #expect(!channel.isActive)
    }

    struct HostileFixture: Sendable, CustomTestStringConvertible {
        let name: String
        let input: String
        let code: MailClientError.Code
        var testDescription: String { name }
    }

    static let hostile: [HostileFixture] = [
        HostileFixture(name: "garbage line", input: "* OK hi\r\n)(*&^%$\r\n", code: .protocolViolation),
        HostileFixture(name: "no greeting", input: "A1 OK what\r\n", code: .protocolViolation),
        HostileFixture(name: "tagged answer to nothing", input: "* OK hi\r\nA1 OK what\r\n", code: .protocolViolation),
        HostileFixture(name: "continuation to nothing", input: "* OK hi\r\n+ go on\r\n", code: .protocolViolation),
        HostileFixture(
            name: "literal of 1 TB",
            input: "* OK hi\r\n* 1 FETCH (BODY[] {1099511627776}\r\n",
            code: .responseTooLarge
        ),
        HostileFixture(
            name: "endless line without CRLF",
            input: "* OK " + String(repeating: "A", count: 5000),
            code: .responseTooLarge
        ),
    ]

    @Test("hostile input fires an error and closes, never crashes", arguments: hostile)
    func hostileInput(_ fixture: HostileFixture) throws {
        let channel = try self.makeChannel(limits: IMAPFrameLimits(maxLineLength: 1000))
        var code: MailClientError.Code?
        do {
            try channel.writeInbound(ByteBuffer(string: fixture.input))
        } catch let error as MailClientError {
            code = error.code
        }
        #expect(code == fixture.code)
        #expect(!channel.isActive)
        // Further bytes after the failure are ignored.
        _ = try? channel.writeInbound(ByteBuffer(string: "* 1 EXISTS\r\n"))
    }

    @Test("a second command while one is outstanding fails its write")
    func commandWhileBusy() throws {
        let channel = try self.makeChannel()
        try self.serverSays(channel, "* OK ready\r\n")
        try channel.writeOutbound(
            IMAPClientRequest.command(IMAPCommand(tag: "A1", [.raw("NOOP")]), literalPlus: false)
        )
        #expect(throws: MailClientError.self) {
            try channel.writeOutbound(
                IMAPClientRequest.command(IMAPCommand(tag: "A2", [.raw("NOOP")]), literalPlus: false)
            )
        }
        try self.serverSays(channel, "A1 OK\r\n")
        _ = try self.responses(channel)
        _ = try self.clientWrote(channel)
        #expect(try channel.finish().isClean)
    }
}
