import NIOCore
import NIOTLS

/// What the connection asks the handler to send.
enum IMAPClientRequest: Sendable, Hashable {
    /// A tagged command; `literalPlus` when the server advertised LITERAL+ (RFC 7888).
    case command(IMAPCommand, literalPlus: Bool)
    /// `tag IDLE`; the handler sends DONE by itself after `timeout` (RFC 2177).
    case idle(tag: String, timeout: TimeAmount)
    /// End IDLE now.
    case done
    /// A line answering a `+` during AUTHENTICATE (RFC 3501 §6.2.2); redacted in logs.
    case continuation(IMAPCommand.Secret)
    /// `tag LOGOUT` whatever the dialogue's state (ending IDLE first), when its answer will not be read:
    /// the caller was cancelled (shutdown) and closes the connection next.
    case farewell(tag: String)
}

/// The duplex IMAP channel handler: bytes → frames → responses inbound, requests → bytes outbound, with the
/// dialogue's state in an `IMAPClientStateMachine`, and the deadlines of the greeting and each command.
///
/// On a deadline miss, a hostile or broken response, or a limit exceeded, it fires a `MailClientError` down the
/// pipeline and closes the channel. After a STARTTLS go-ahead it drops every plaintext byte until it sees
/// `TLSUserEvent.handshakeCompleted` from the TLS handler inserted in front of it.
final class IMAPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = IMAPResponse
    typealias OutboundIn = IMAPClientRequest
    typealias OutboundOut = ByteBuffer

    private let limits: IMAPFrameLimits
    private let commandTimeout: TimeAmount
    private var processor: NIOSingleStepByteToMessageProcessor<IMAPFrameDecoder>
    private var stateMachine = IMAPClientStateMachine()
    private var deadline: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var failed = false

    /// A handler that allows `commandTimeout` for the greeting and for each command's complete response.
    init(commandTimeout: TimeAmount, limits: IMAPFrameLimits = IMAPFrameLimits()) {
        self.limits = limits
        self.commandTimeout = commandTimeout
        self.processor = NIOSingleStepByteToMessageProcessor(IMAPFrameDecoder(limits: limits))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.startDeadline(context: context, what: "the greeting", after: self.commandTimeout)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelTimers()
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startDeadline(context: context, what: "the greeting", after: self.commandTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.cancelTimers()
        self.stateMachine.close()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.failed else { return }
        if case .tlsHandoff = self.stateMachine.state {
            // RFC 3501 §6.2.1 / RFC 2595 §3.1: plaintext after the STARTTLS go-ahead may be injected; drop it.
            return
        }
        let buffer = Self.unwrapInboundIn(data)
        do {
            try self.processor.process(buffer: buffer) { frame in
                try self.handle(frame: frame, context: context)
            }
        } catch {
            self.fail(context: context, error: error)
            return
        }
        if case .tlsHandoff = self.stateMachine.state {
            // Forget any plaintext already buffered after the go-ahead.
            self.processor = NIOSingleStepByteToMessageProcessor(IMAPFrameDecoder(limits: self.limits))
        }
    }

    private func handle(frame: IMAPFrame, context: ChannelHandlerContext) throws {
        guard !self.failed else { return }
        let response = try IMAPResponseParser.parse(frame)
        let wasOutstanding = self.stateMachine.commandOutstanding
        let wasGreeting = self.stateMachine.state == .awaitingGreeting
        switch try self.stateMachine.receive(response) {
        case .drop:
            return
        case .forward, .forwardAndStartTLSHandoff:
            context.fireChannelRead(Self.wrapInboundOut(response))
        case .write(let bytes, _):
            context.writeAndFlush(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        case .writeDone:
            self.idleTimer?.cancel()
            self.idleTimer = nil
            context.writeAndFlush(
                Self.wrapOutboundOut(context.channel.allocator.buffer(string: "DONE\r\n")),
                promise: nil
            )
        }
        if (wasOutstanding || wasGreeting) && !self.stateMachine.commandOutstanding {
            self.cancelTimers()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            self.processor = NIOSingleStepByteToMessageProcessor(IMAPFrameDecoder(limits: self.limits))
            self.stateMachine.tlsHandshakeCompleted()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.cancelTimers()
        self.stateMachine.close()
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = Self.unwrapOutboundIn(data)
        do {
            switch request {
            case .command(let command, let literalPlus):
                let bytes = try self.stateMachine.sendCommand(command, literalPlus: literalPlus)
                self.startDeadline(context: context, what: "command \(command.tag)", after: self.commandTimeout)
                context.write(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: promise)
            case .idle(let tag, let timeout):
                let bytes = try self.stateMachine.sendIdle(tag: tag)
                // The IDLE itself may last `timeout`; after that we send DONE and allow a normal command deadline.
                self.startDeadline(context: context, what: "IDLE \(tag)", after: timeout + self.commandTimeout)
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                self.idleTimer = context.eventLoop.scheduleTask(in: timeout) {
                    let (handler, context) = loopBound.value
                    handler.idleTimer = nil
                    handler.endIdle(context: context)
                }
                context.write(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: promise)
            case .done:
                self.idleTimer?.cancel()
                self.idleTimer = nil
                self.endIdle(context: context)
                promise?.succeed(())
            case .farewell(let tag):
                self.idleTimer?.cancel()
                self.idleTimer = nil
                let bytes = self.stateMachine.sendFarewell(tag: tag)
                context.write(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: promise)
            case .continuation(let secret):
                try self.stateMachine.sendContinuation()
                var buffer = context.channel.allocator.buffer(capacity: secret.bytes.count + 2)
                buffer.writeBytes(secret.bytes)
                buffer.writeString("\r\n")
                context.write(Self.wrapOutboundOut(buffer), promise: promise)
            }
        } catch {
            promise?.fail(error)
        }
    }

    /// Sends DONE if IDLE is still running, and restarts the deadline for its tagged response.
    private func endIdle(context: ChannelHandlerContext) {
        guard let bytes = self.stateMachine.sendDone() else { return }
        self.startDeadline(context: context, what: "the end of IDLE", after: self.commandTimeout)
        context.writeAndFlush(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    private func startDeadline(context: ChannelHandlerContext, what: String, after timeout: TimeAmount) {
        self.deadline?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.deadline = nil
            let seconds = Double(timeout.nanoseconds) / 1e9
            handler.fail(
                context: context,
                error: MailClientError(.timeout, "no complete answer to \(what) within \(seconds) s")
            )
        }
    }

    private func cancelTimers() {
        self.deadline?.cancel()
        self.deadline = nil
        self.idleTimer?.cancel()
        self.idleTimer = nil
    }

    private func fail(context: ChannelHandlerContext, error: any Error) {
        guard !self.failed else { return }
        self.failed = true
        self.cancelTimers()
        self.stateMachine.close()
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }
}
