import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

@testable import MailClients

/// Records errors that reach the end of the pipeline.
final class SMTPErrorRecorder: ChannelInboundHandler {
    typealias InboundIn = SMTPReply
    var errors: [any Error] = []
    var replies: [SMTPReply] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        replies.append(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
    }
}

@Suite("SMTP client handler")
struct SMTPClientHandlerTests {
    private func makeChannel(timeout: TimeAmount = .seconds(30)) throws -> (EmbeddedChannel, SMTPErrorRecorder) {
        let recorder = SMTPErrorRecorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(SMTPClientHandler(replyTimeout: timeout))
        try channel.pipeline.syncOperations.addHandler(recorder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        return (channel, recorder)
    }

    @Test("greeting, EHLO and QUIT pass through; finish() is clean")
    func conversation() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "220 vm ESMTP OpenSMTPD\r\n"))
        try channel.writeOutbound(SMTPCommand.ehlo("desk.test"))
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "EHLO desk.test\r\n")
        try channel.writeInbound(ByteBuffer(string: "250-vm Hello\r\n250 8BITMIME\r\n"))
        try channel.writeOutbound(SMTPCommand.quit)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "QUIT\r\n")
        try channel.writeInbound(ByteBuffer(string: "221 2.0.0 Bye\r\n"))
        #expect(recorder.replies.map(\.code) == [220, 250, 221])
        #expect(recorder.errors.isEmpty)
        #expect(try channel.finish().isClean)
    }

    @Test("a reply nobody asked for fails the channel")
    func unsolicited() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "220 hi\r\n250 surprise\r\n"))
        #expect((recorder.errors.first as? MailClientError)?.code == .protocolViolation)
        #expect(!channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("an unsolicited 421 is .connectionClosed with the server's words (RFC 5321 §3.8)")
    func unsolicited421() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "220 hi\r\n421 4.4.2 idle timeout\r\n"))
        let error = recorder.errors.first as? MailClientError
        #expect(error?.code == .connectionClosed)
        #expect(error?.serverText == "421 4.4.2 idle timeout")
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a late greeting fails the channel with .timeout")
    func greetingTimeout() throws {
        let (channel, recorder) = try makeChannel(timeout: .seconds(5))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(recorder.errors.isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect((recorder.errors.first as? MailClientError)?.code == .timeout)
        #expect(!channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a late reply fails the channel with .timeout; no timer runs while nothing is owed")
    func replyTimeout() throws {
        let (channel, recorder) = try makeChannel(timeout: .seconds(5))
        try channel.writeInbound(ByteBuffer(string: "220 hi\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(recorder.errors.isEmpty)
        try channel.writeOutbound(SMTPCommand.noop)
        _ = try channel.readOutbound(as: ByteBuffer.self)
        try channel.writeInbound(ByteBuffer(string: "250 2.0.0 O"))  // partial reply does not stop the clock
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        let error = recorder.errors.first as? MailClientError
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("NOOP") == true)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("plaintext after the STARTTLS go-ahead is dropped until TLS is up (RFC 3207 §4.2)")
    func startTLSInjection() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "220 hi\r\n"))
        try channel.writeOutbound(SMTPCommand.startTLS)
        _ = try channel.readOutbound(as: ByteBuffer.self)
        try channel.writeInbound(
            ByteBuffer(string: "220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 AUTH PLAIN\r\n"))
        try channel.writeInbound(ByteBuffer(string: "250 more plaintext\r\n"))
        #expect(recorder.replies.map(\.code) == [220, 220])
        #expect(recorder.errors.isEmpty)
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        try channel.writeOutbound(SMTPCommand.ehlo("desk.test"))
        _ = try channel.readOutbound(as: ByteBuffer.self)
        try channel.writeInbound(ByteBuffer(string: "250 vm\r\n"))
        #expect(recorder.replies.map(\.code) == [220, 220, 250])
        #expect(recorder.errors.isEmpty)
        #expect(try channel.finish().isClean)
    }

    @Test("nothing may be pipelined behind STARTTLS")
    func noPipeliningAfterStartTLS() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "220 hi\r\n"))
        try channel.writeOutbound(SMTPCommand.startTLS)
        #expect(throws: MailClientError.self) { try channel.writeOutbound(SMTPCommand.ehlo("x")) }
        #expect((recorder.errors.first as? MailClientError)?.code == .protocolViolation)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a command that cannot be encoded fails the channel, so the reader sees the error")
    func encodeFailure() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "220 hi\r\n"))
        #expect(throws: MailClientError.self) { try channel.writeOutbound(SMTPCommand.rcptTo("a\r\nDATA")) }
        #expect((recorder.errors.first as? MailClientError)?.code == .protocolViolation)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("the server closing while a reply is owed is .connectionClosed")
    func closedWhileOwed() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "220 hi\r\n"))
        try channel.writeOutbound(SMTPCommand.data)
        _ = try channel.readOutbound(as: ByteBuffer.self)
        channel.pipeline.fireChannelInactive()
        #expect((recorder.errors.first as? MailClientError)?.code == .connectionClosed)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("garbage from the server is an error, not a crash")
    func garbage() throws {
        let (channel, recorder) = try makeChannel()
        try channel.writeInbound(ByteBuffer(bytes: [0xFF, 0xFE, 0x00, 0x0D, 0x0A]))
        #expect((recorder.errors.first as? MailClientError)?.code == .protocolViolation)
        try channel.writeInbound(ByteBuffer(string: "220 late\r\n"))  // ignored once failed
        #expect(recorder.replies.isEmpty)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
