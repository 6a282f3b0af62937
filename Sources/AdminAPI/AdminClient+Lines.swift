import Foundation
import NIOCore
import NIOHTTP1
import PostdeskWire

extension AdminClient {
    /// Sends a request whose answer is JSON lines (NDJSON) and hands each line to `line` as it arrives, so a long
    /// call can show its progress. An answer that is not 2xx throws the server's error line, as `raw` does.
    public func lines(
        _ method: HTTPMethod, _ path: String, body: some Encodable, _ line: (Data) async throws -> Void
    ) async throws {
        let payload = try AdminJSON.encoder().encode(body)
        let channel = try await connect()
        try await channel.executeThenClose { inbound, outbound in
            try await Self.send(method, path, payload, to: outbound)
            var status = 0
            var pending = ByteBuffer()
            // How far `pending` has been searched for a line break: each byte is looked at once.
            var searched = 0
            for try await part in inbound {
                switch part {
                case .head(let response):
                    status = Int(response.status.code)
                case .body(var chunk):
                    pending.writeBuffer(&chunk)
                    guard (200..<300).contains(status) else { continue }
                    while let offset = pending.readableBytesView.dropFirst(searched).firstIndex(of: UInt8(ascii: "\n"))
                    {
                        let length = offset - pending.readableBytesView.startIndex
                        let text = pending.readData(length: length) ?? Data()
                        pending.moveReaderIndex(forwardBy: 1)
                        searched = 0
                        if !text.isEmpty { try await line(text) }
                    }
                    searched = pending.readableBytes
                    if pending.readerIndex > 1 << 16 { pending.discardReadBytes() }
                case .end:
                    guard (200..<300).contains(status) else {
                        let data = Data(buffer: pending)
                        let message = (try? AdminJSON.decoder().decode(ErrorBody.self, from: data))?.error
                        throw Failure(message: message ?? "the server answered HTTP \(status)")
                    }
                    if pending.readableBytes > 0 { try await line(Data(buffer: pending)) }
                    return
                }
            }
            throw Failure(message: "the server closed the connection before it finished answering")
        }
    }
}
