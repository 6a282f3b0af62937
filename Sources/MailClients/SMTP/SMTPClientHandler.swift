import NIOCore
import NIOTLS

/// The duplex handler of an SMTP client channel: frames replies, encodes commands, tracks owed replies,
/// and fails the channel with `.timeout` when a reply is late. No business logic.
///
/// Inbound: `ByteBuffer` in, `SMTPReply` out. Outbound: `SMTPCommand` in, `ByteBuffer` out.
/// A failure is fired as a `MailClientError` through `errorCaught`, then the channel is closed.
///
/// Like `POP3ClientHandler`, it owns its decoder (no `ByteToMessageHandler`) so that the STARTTLS hand-off can
/// drop the decoder's buffered plaintext.
final class SMTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = SMTPReply
    typealias OutboundIn = SMTPCommand
    typealias OutboundOut = ByteBuffer

    private var decoder: SMTPReplyDecoder
    private var buffer = ByteBuffer()
    private var state = SMTPClientStateMachine()
    private let replyTimeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var failed = false
    private var discardingUntilTLS = false

    /// Creates a handler whose every reply (the greeting included) must arrive within `replyTimeout`.
    init(replyTimeout: TimeAmount, decoder: SMTPReplyDecoder = SMTPReplyDecoder()) {
        self.replyTimeout = replyTimeout
        self.decoder = decoder
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { restartTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelActive(context: ChannelHandlerContext) {
        restartTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        if !failed && state.isAwaitingReply {
            failed = true
            context.fireErrorCaught(
                MailClientError(
                    .connectionClosed, "the server closed the connection before \(state.oldestOwed ?? "a reply")")
            )
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed, !discardingUntilTLS else { return }
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        do {
            while let reply = try decoder.decode(buffer: &buffer) {
                let action = try state.didReceive(reply)
                if action == .forwardThenDiscardUntilTLS {
                    // RFC 3207 §4.2 (CVE-2011-0411): plaintext after "220 ready for TLS" could be an attacker's
                    // and must not be read as if it came over TLS.
                    discardingUntilTLS = true
                    buffer.clear()
                }
                restartTimer(context: context)
                context.fireChannelRead(wrapInboundOut(reply))
                if discardingUntilTLS { break }
            }
            buffer.discardReadBytes()
        } catch {
            fail(context: context, error: error)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { discardingUntilTLS = false }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        guard !failed else {
            promise?.fail(MailClientError(.connectionClosed, "the SMTP connection has already failed"))
            return
        }
        var out = context.channel.allocator.buffer(capacity: 64)
        do {
            try command.encode(into: &out)
            try state.willSend(command)
        } catch {
            // The async writer does not look at write promises: fail the channel so the reader sees the error.
            promise?.fail(error)
            fail(context: context, error: error)
            return
        }
        if timer == nil { restartTimer(context: context) }
        context.write(wrapOutboundOut(out), promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        cancelTimer()
        failed = true
        context.fireErrorCaught(error)
    }

    private func fail(context: ChannelHandlerContext, error: any Error) {
        guard !failed else { return }
        failed = true
        cancelTimer()
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func restartTimer(context: ChannelHandlerContext) {
        cancelTimer()
        guard state.isAwaitingReply else { return }
        let what = state.oldestOwed ?? "a reply"
        let seconds = Double(replyTimeout.nanoseconds) / 1e9
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: replyTimeout) { [self] in
            self.timer = nil
            self.fail(
                context: context,
                error: MailClientError(.timeout, "no complete SMTP reply (\(what)) within \(seconds) s")
            )
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}
