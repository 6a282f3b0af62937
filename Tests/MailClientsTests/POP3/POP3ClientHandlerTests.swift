import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

@testable import MailClients

/// Records responses and errors that reach the end of the pipeline.
final class POP3Recorder: ChannelInboundHandler {
    typealias InboundIn = POP3Response
    var errors: [any Error] = []
    var responses: [POP3Response] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        responses.append(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
    }
}

@Suite("POP3 client handler")
struct POP3ClientHandlerTests {
    private func makeChannel(timeout: TimeAmount = .seconds(30)) throws -> (EmbeddedChannel, POP3Recorder) {
        let recorder = POP3Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(POP3ClientHandler(responseTimeout: timeout))
        try channel.pipeline.syncOperations.addHandler(recorder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 110)).wait()
        return (channel, recorder)
    }

    private func sent(_ channel: EmbeddedChannel) throws -> String? {
        try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) }
    }

    @Test("the handler tells the decoder which answers carry a body; finish() is clean")
    func conversation() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+OK ready\r\n"))
        try channel.writeOutbound(POP3Command.stat)
        #expect(try sent(channel) == "STAT\r\n")
        try channel.writeInbound(ByteBuffer(string: "+OK 1 5\r\n"))
        try channel.writeOutbound(POP3Command.retr(1))
        #expect(try sent(channel) == "RETR 1\r\n")
        try channel.writeInbound(ByteBuffer(string: "+OK 5 octets\r\n..hi\r\n.\r\n"))
        try channel.writeOutbound(POP3Command.retr(2))
        _ = try sent(channel)
        try channel.writeInbound(ByteBuffer(string: "-ERR [SYS/PERM] no such message\r\n"))
        try channel.writeOutbound(POP3Command.quit)
        _ = try sent(channel)
        try channel.writeInbound(ByteBuffer(string: "+OK bye\r\n"))
        #expect(
            recorder.responses.map(\.statusLine) == [
                "+OK ready", "+OK 1 5", "+OK 5 octets", "-ERR [SYS/PERM] no such message", "+OK bye",
            ])
        #expect(recorder.responses[2].body == Array(".hi\r\n".utf8))
        #expect(recorder.errors.isEmpty)
        #expect(try channel.finish().isClean)
    }

    @Test("plaintext after the STLS go-ahead is dropped until TLS is up (RFC 2595 §4)")
    func stlsInjection() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+OK ready\r\n"))
        try channel.writeOutbound(POP3Command.stls)
        _ = try sent(channel)
        try channel.writeInbound(ByteBuffer(string: "+OK Begin TLS negotiation now.\r\n+OK injected\r\n"))
        try channel.writeInbound(ByteBuffer(string: "-ERR more\r\n"))
        #expect(recorder.responses.count == 2)
        #expect(recorder.errors.isEmpty)
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        try channel.writeOutbound(POP3Command.capa)
        _ = try sent(channel)
        try channel.writeInbound(ByteBuffer(string: "+OK\r\nUSER\r\n.\r\n"))
        #expect(recorder.responses.last?.body == Array("USER\r\n".utf8))
        #expect(recorder.errors.isEmpty)
        #expect(try channel.finish().isClean)
    }

    @Test("a late answer fails the channel with .timeout")
    func timeout() throws {
        let (channel, recorder) = try makeChannel(timeout: .seconds(10))
        try channel.writeInbound(ByteBuffer(string: "+OK ready\r\n"))
        try channel.writeOutbound(POP3Command.retr(1))
        _ = try sent(channel)
        try channel.writeInbound(ByteBuffer(string: "+OK\r\npartial body\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(11))
        let error = recorder.errors.first as? MailClientError
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("RETR 1") == true)
        #expect(!channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("unsolicited data fails the channel")
    func unsolicited() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+OK ready\r\n-ERR surprise\r\n"))
        #expect((recorder.errors.first as? MailClientError)?.code == .protocolViolation)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a command that cannot be encoded fails the channel")
    func encodeFailure() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+OK ready\r\n"))
        #expect(throws: MailClientError.self) { try channel.writeOutbound(POP3Command.user("a\r\nDELE 1")) }
        #expect((recorder.errors.first as? MailClientError)?.code == .protocolViolation)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("the server closing mid-answer is .connectionClosed")
    func closedMidAnswer() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+OK ready\r\n"))
        try channel.writeOutbound(POP3Command.uidl(nil))
        _ = try sent(channel)
        try channel.writeInbound(ByteBuffer(string: "+OK\r\n1 abc\r\n"))
        channel.pipeline.fireChannelInactive()
        #expect((recorder.errors.first as? MailClientError)?.code == .connectionClosed)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
