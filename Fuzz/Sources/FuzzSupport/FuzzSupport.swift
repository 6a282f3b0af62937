// What every protocol fuzzer shares: libFuzzer's driver, a check that turns a broken invariant into a finding, and a
// feeder that plays a byte stream into a NIO decoder the way ByteToMessageHandler does, in reads of a chosen size.
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Traps (a libFuzzer finding) when `condition` is false, after printing what broke. Used only by the fuzzers, where a
/// trap is the report.
public func fuzzCheck(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() {
        // To stderr, unbuffered: an optimized build's trap prints no message, and stdout is lost when the process dies.
        let text = Array("fuzz invariant broken at \(file):\(line): \(message())\n".utf8)
        _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        preconditionFailure()
    }
}

/// What a decoder made of a byte stream: the messages, the error that stopped it (if any), and how many bytes were
/// still unread at the end.
public struct FeedOutcome<Message> {
    /// Every message decoded, in order.
    public var messages: [Message] = []
    /// The first error the decoder threw; decoding stops there, as ByteToMessageHandler stops.
    public var error: (any Error)?
    /// Bytes not consumed at the end. Compare it only when there was no error: a decoder that threw is dead, and how
    /// much of a batch of lines it had consumed before throwing depends on the reads (the POP3 body decoder consumes a
    /// read's lines together), which the POP3 fuzzer's first finding showed.
    public var leftover = 0
}

/// Plays `input` into `decoder` in reads of `chunkSize` bytes (all of it at once when `chunkSize >= input.count`),
/// calling `decode` until it returns nil after every read and `decodeLast(seenEOF: true)` at the end, like NIO's
/// ByteToMessageHandler. With `compact`, read bytes are discarded after every read, so a decoder that remembered
/// absolute buffer positions would go wrong.
public func feed<Decoder: NIOSingleStepByteToMessageDecoder>(
    _ input: [UInt8], chunkSize: Int, compact: Bool = false, into decoder: inout Decoder
) -> FeedOutcome<Decoder.InboundOut> {
    var outcome = FeedOutcome<Decoder.InboundOut>()
    var buffer = ByteBuffer()
    var offset = 0
    do {
        while offset < input.count {
            let end = offset + min(input.count - offset, max(1, chunkSize))
            buffer.writeBytes(input[offset..<end])
            offset = end
            while let message = try decoder.decode(buffer: &buffer) {
                outcome.messages.append(message)
            }
            if compact { buffer.discardReadBytes() }
        }
        while let message = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
            outcome.messages.append(message)
        }
    } catch {
        outcome.error = error
    }
    outcome.leftover = buffer.readableBytes + (input.count - offset)
    return outcome
}

/// The read sizes every fuzzer tries: the whole input at once, one byte at a time, and 7-byte reads with compaction
/// (a server that dribbles bytes must not change the result).
public let fuzzReadPatterns: [(chunkSize: Int, compact: Bool)] = [(Int.max, false), (1, false), (7, true)]

@_silgen_name("LLVMFuzzerRunDriver")
private func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Hands the command line to libFuzzer's driver with `callback` as the fuzz target; what libFuzzer's own `main` does.
///
/// SwiftPM links every executable on Linux with `--defsym main=<Module>_main`, and `-parse-as-library` means Swift
/// emits no such function, so each fuzzer defines `<Module>_main` and calls this.
public func runFuzzerDriver(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return llvmFuzzerRunDriver(&argc, &argv, callback)
}
