// The store the intake benchmarks and IntakeProfile measure: one project, request type and IMAP channel, as the
// server has them.

import Foundation
import ServiceDesk

/// A fresh store in `directory` with project SD, request type Help and the channel help@desk.test; returns the
/// store and the channel's id.
public func makeIntakeStore(in directory: URL, durability: DeskStore.Durability = .full) async throws -> (
    store: DeskStore, channelId: Int64
) {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let store = try DeskStore(
        path: directory.appendingPathComponent("d.sqlite").path, secrets: SecretBox(), durability: durability)
    _ = try await store.createProject(key: "SD", name: "Bench", signup: .public)
    _ = try await store.addRequestType(
        projectKey: "SD", name: "Help",
        fields: [
            RequestField(name: "summary", visible: true, required: true),
            RequestField(name: "description", visible: true, required: true),
        ])
    let channel = try await store.linkChannel(
        ChannelDraft(
            projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 1, tls: .none,
            caFile: nil, username: "help", password: "x", requestTypeName: "Help"),
        watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
    guard let channelId = channel.id else { throw DeskError(.storage, "channel without id") }
    return (store, channelId)
}
