import NIOCore
import NIOTLS

/// The duplex handler of a POP3 client channel: frames responses, encodes commands, tells the decoder which
/// answers carry a body, and fails the channel with `.timeout` when an answer is late. No business logic.
///
/// Inbound: `ByteBuffer` in, `POP3Response` out. Outbound: `POP3Command` in, `ByteBuffer` out.
/// A failure is fired as a `MailClientError` through `errorCaught`, then the channel is closed.
///
/// The handler owns its `POP3ResponseDecoder` instead of sitting behind a `ByteToMessageHandler`: it must tell
/// the decoder, in `write`, whether the answer to each command carries a body, before that answer can arrive.
final class POP3ClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = POP3Response
    typealias OutboundIn = POP3Command
    typealias OutboundOut = ByteBuffer

    private var decoder: POP3ResponseDecoder
    private var buffer = ByteBuffer()
    private var state = POP3ClientStateMachine()
    private let responseTimeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var failed = false
    private var discardingUntilTLS = false

    /// Creates a handler whose every complete response (the greeting included) must arrive within
    /// `responseTimeout`. `decoder` must expect exactly the greeting.
    init(responseTimeout: TimeAmount, decoder: POP3ResponseDecoder = POP3ResponseDecoder()) {
        self.responseTimeout = responseTimeout
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
        if !failed && state.isAwaitingResponse {
            failed = true
            context.fireErrorCaught(
                MailClientError(
                    .connectionClosed,
                    "the server closed the connection before \(state.oldestOwed ?? "a response")"
                )
            )
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed, !discardingUntilTLS else { return }
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        do {
            while let response = try decoder.decode(buffer: &buffer) {
                if try state.didReceive(response) == .forwardThenDiscardUntilTLS {
                    // RFC 2595 §4 (and CVE-2011-0411): plaintext after the STLS go-ahead could be an attacker's.
                    discardingUntilTLS = true
                    buffer.clear()
                }
                restartTimer(context: context)
                context.fireChannelRead(wrapInboundOut(response))
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
            promise?.fail(MailClientError(.connectionClosed, "the POP3 connection has already failed"))
            return
        }
        var out = context.channel.allocator.buffer(capacity: 32)
        do {
            try command.encode(into: &out)
            try state.willSend(command)
        } catch {
            // The async writer does not look at write promises: fail the channel so the reader sees the error.
            promise?.fail(error)
            fail(context: context, error: error)
            return
        }
        decoder.expect(command.responseShape)
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
        guard state.isAwaitingResponse else { return }
        let what = state.oldestOwed ?? "a response"
        let seconds = Double(responseTimeout.nanoseconds) / 1e9
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: responseTimeout) { [self] in
            self.timer = nil
            self.fail(
                context: context,
                error: MailClientError(.timeout, "no complete POP3 response (\(what)) within \(seconds) s")
            )
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}
