import MailWire
import NIOCore

/// The duplex handler of one LMTP server connection: frames command lines and message content, drives the state
/// machine, writes replies, and hands recipients and messages to the owner as `LMTPServerRequest`s (inbound),
/// taking the owner's `LMTPServerAnswer`s (outbound). No business logic.
///
/// While a request is with the owner, or the client does not read its replies, nothing more is read from the
/// socket (reads are held back), so pipelined input waits in the kernel, not in memory.
final class LMTPServerHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = LMTPServerRequest
    typealias OutboundIn = LMTPServerAnswer
    typealias OutboundOut = ByteBuffer

    private var state: LMTPServerStateMachine
    private var lines: CRLFLineReader
    private var data: LMTPDataReader?
    private var buffer = ByteBuffer()
    private let idleTimeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var greeted = false
    private var closed = false
    /// A request is with the owner.
    private var awaitingAnswer = false
    /// A read the channel asked for while input was held back.
    private var readHeldBack = false
    private var draining = false

    /// A handler with the session's limits; a client silent for `idleTimeout` gets 421 (RFC 5321 §4.5.3.2.7).
    init(limits: LMTPServerStateMachine.Limits, maximumCommandLength: Int, idleTimeout: TimeAmount) {
        self.state = LMTPServerStateMachine(limits: limits)
        self.lines = CRLFLineReader(maximumLength: maximumCommandLength)
        self.idleTimeout = idleTimeout
    }

    private var isHoldingInput: Bool { awaitingAnswer || closed }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { greet(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelActive(context: ChannelHandlerContext) {
        greet(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        cancelTimer()
        context.fireChannelInactive()
    }

    private func greet(context: ChannelHandlerContext) {
        guard !greeted else { return }
        greeted = true
        send(state.greeting, context: context)
        context.flush()
        restartTimer(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        restartTimer(context: context)
        process(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resume(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Holds back reads while a request is out or the client is not reading its replies.
    func read(context: ChannelHandlerContext) {
        if isHoldingInput || !context.channel.isWritable {
            readHeldBack = true
        } else {
            context.read()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let answer = unwrapOutboundIn(data)
        promise?.succeed()
        guard awaitingAnswer, !closed else { return }
        awaitingAnswer = false
        switch answer {
        case .recipient(let verdict): perform(state.verdict(verdict), context: context)
        case .delivery(let results): perform(state.delivered(results), context: context)
        }
        restartTimer(context: context)
        resume(context: context)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is LMTPDrainEvent else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        promise?.succeed()
        draining = true
        closeIfDrained(context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset by the peer or a failed write: the session is over; nothing the owner committed is undone.
        closed = true
        context.close(promise: nil)
    }

    /// Reads on from the buffer and the socket after a hold.
    private func resume(context: ChannelHandlerContext) {
        guard !isHoldingInput else { return }
        process(context: context)
        if readHeldBack, !isHoldingInput, context.channel.isWritable {
            readHeldBack = false
            context.read()
        }
    }

    /// Works through the buffered input until it is used up or a request goes to the owner.
    private func process(context: ChannelHandlerContext) {
        while !isHoldingInput, context.channel.isWritable, buffer.readableBytes > 0 {
            if state.isReadingData {
                if data == nil { data = LMTPDataReader(maximumSize: state.limits.maximumMessageSize) }
                guard var reader = data else { break }
                let ended = reader.consume(&buffer)
                data = reader
                guard ended else { break }
                data = nil
                let message = reader.isOversized ? nil : Array(reader.content.readableBytesView)
                perform(state.dataEnded(message: message), context: context)
            } else {
                let line: [UInt8]
                do throws(CRLFLineReader.Failure) {
                    guard let next = try lines.read(from: &buffer) else { break }
                    line = next
                } catch {
                    perform(state.framingFailed(error), context: context)
                    break
                }
                if draining, state.isBetweenCommands {
                    perform(state.shutdown(), context: context)
                    break
                }
                perform(state.command(line), context: context)
            }
        }
        // Keep the buffer small: what was read is dropped once in a while, not on every line.
        if buffer.readerIndex > 4096 { buffer.discardReadBytes() }
        context.flush()
        closeIfDrained(context: context)
    }

    private func perform(_ action: LMTPServerStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .reply(let reply):
            send(reply, context: context)
        case .replies(let replies):
            for reply in replies { send(reply, context: context) }
            context.flush()
        case .startData(let reply):
            data = LMTPDataReader(maximumSize: state.limits.maximumMessageSize)
            send(reply, context: context)
            context.flush()
        case .askRecipient(let address):
            ask(.recipient(address), context: context)
        case .deliver(let delivery):
            ask(.delivery(delivery), context: context)
        case .close(let reply):
            closed = true
            cancelTimer()
            var out = context.channel.allocator.buffer(capacity: 64)
            reply.encode(into: &out)
            // Closed once the reply is out, so that the client reads why.
            context.writeAndFlush(wrapOutboundOut(out)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    /// Hands a request to the owner. A request made while reading on after an answer comes outside the channel's
    /// read cycle: the read-complete makes NIOAsyncChannel pass it on now rather than at the next socket read.
    private func ask(_ request: LMTPServerRequest, context: ChannelHandlerContext) {
        context.flush()
        awaitingAnswer = true
        context.fireChannelRead(wrapInboundOut(request))
        context.fireChannelReadComplete()
    }

    /// After a shutdown request: closes with 421 as soon as nothing is in flight (a DATA being read finishes first).
    private func closeIfDrained(context: ChannelHandlerContext) {
        guard draining, !closed, !awaitingAnswer, state.isBetweenCommands else { return }
        perform(state.shutdown(), context: context)
    }

    private func send(_ reply: LMTPReply, context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 64)
        reply.encode(into: &out)
        context.write(wrapOutboundOut(out), promise: nil)
    }

    private func restartTimer(context: ChannelHandlerContext) {
        cancelTimer()
        guard !closed else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [self] in
            self.timer = nil
            // Waiting for the owner is not the client's silence.
            if self.awaitingAnswer { return self.restartTimer(context: context) }
            self.perform(self.state.timedOut(), context: context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}
