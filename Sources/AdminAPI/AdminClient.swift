import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PostdeskWire

/// Talks to a running server's admin socket: one HTTP/1.1 request per call, JSON in and out.
public struct AdminClient: Sendable {
    public var socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Why a call failed, in one line for the terminal.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }

        /// A failure the CLI met on its own side of a call (a sign-in's local listener), shown like the server's.
        public init(message: String) { self.message = message }
    }

    /// Sends a request and decodes the JSON answer, or throws the server's error line.
    public func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: (some Encodable)? = Optional<String>.none, as: Answer.Type
    ) async throws -> Answer {
        let data = try await raw(method, path, body: body)
        do {
            return try AdminJSON.decoder().decode(Answer.self, from: data)
        } catch {
            throw Failure(message: "the server's answer was not understood: \(error)")
        }
    }

    /// Sends a request and returns the successful answer's bytes.
    public func raw(_ method: HTTPMethod, _ path: String, body: (some Encodable)?) async throws -> Data {
        let payload = try body.map { try AdminJSON.encoder().encode($0) }
        let (status, data) = try await exchange(method, path, payload)
        guard (200..<300).contains(status) else {
            let message = (try? AdminJSON.decoder().decode(ErrorBody.self, from: data))?.error
            throw Failure(message: message ?? "the server answered HTTP \(status)")
        }
        return data
    }

    private func exchange(_ method: HTTPMethod, _ path: String, _ payload: Data?) async throws -> (Int, Data) {
        let channel = try await connect()
        return try await channel.executeThenClose { inbound, outbound in
            try await Self.send(method, path, payload, to: outbound)
            var status = 0
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let response): status = Int(response.status.code)
                case .body(var chunk): body.writeBuffer(&chunk)
                case .end: return (status, Data(buffer: body))
                }
            }
            throw Failure(message: "the server closed the connection before answering")
        }
    }

    /// A connection to the admin socket, or the reason there is none in words for the terminal.
    func connect() async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        guard FileManager.default.fileExists(atPath: socketPath) else {
            throw Failure(
                message:
                    "postdesk server is not running: no admin socket at \(socketPath) (start it with postdesk serve, or pass --socket)"
            )
        }
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: socketPath) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch let error as IOError where error.errnoCode == EACCES {
            throw Failure(
                message:
                    "permission denied on the admin socket \(socketPath): run this as the server's user, root, or a member of its --admin-group"
            )
        } catch {
            throw Failure(message: "postdesk server is not running at \(socketPath): \(error)")
        }
        return channel
    }

    /// Writes one whole request: head, JSON body, end.
    static func send(
        _ method: HTTPMethod, _ path: String, _ payload: Data?,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    ) async throws {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "postdesk")
        head.headers.add(name: "Connection", value: "close")
        if let payload {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(payload.count))
        }
        // One write and one flush for the whole request: with separate writes the server could answer and close
        // (Connection: close) after the body and before the empty end part, which then failed with "I/O on closed
        // channel" although the answer was on its way (seen under load).
        var request: [HTTPClientRequestPart] = [.head(head)]
        if let payload { request.append(.body(.byteBuffer(ByteBuffer(data: payload)))) }
        request.append(.end(nil))
        try await outbound.write(contentsOf: request)
    }
}

extension AdminClient {
    /// Decodes an answer with the API's date format.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try AdminJSON.decoder().decode(type, from: data)
    }
}

/// Encodes answers the way the server does, for commands that print a combined JSON answer.
public enum AdminJSONOutput {
    /// JSON bytes of a value, with the API's date format.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        try AdminJSON.encoder().encode(value)
    }
}
