import Foundation
import Testing

@testable import EmailChannel

/// Counts how many tasks are inside at once, and the most there ever were.
private actor Occupancy {
    private(set) var now = 0
    private(set) var most = 0
    private(set) var order: [Int] = []

    func enter(_ id: Int) {
        now += 1
        most = max(most, now)
        order.append(id)
    }

    func leave() { now -= 1 }
}

@Suite("Fetch limiter: a bounded number of mailboxes fetch at once")
struct FetchLimiterTests {
    @Test("forty tasks through three slots: never more than three inside, and all of them get in")
    func boundsConcurrency() async throws {
        let limiter = FetchLimiter(limit: 3)
        let occupancy = Occupancy()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 0..<40 {
                group.addTask {
                    try await limiter.withSlot {
                        await occupancy.enter(id)
                        try await Task.sleep(for: .milliseconds(5))
                        await occupancy.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await occupancy.most == 3)
        #expect(await occupancy.order.count == 40)
        #expect(limiter.inUse == 0)
    }

    @Test("waiters get in first come, first served")
    func fifo() async throws {
        let limiter = FetchLimiter(limit: 1)
        let occupancy = Occupancy()
        let (gate, open) = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The first holds the only slot until the gate opens.
            group.addTask {
                try await limiter.withSlot {
                    await occupancy.enter(0)
                    for await _ in gate { break }
                }
            }
            try await waitUntil { await occupancy.order == [0] }
            for id in 1...5 {
                group.addTask { try await limiter.withSlot { await occupancy.enter(id) } }
                // Each queues before the next one starts.
                try await waitUntil { limiter.waiterCount == id }
            }
            open.yield()
            open.finish()
            try await group.waitForAll()
        }
        #expect(await occupancy.order == [0, 1, 2, 3, 4, 5])
    }

    @Test("a task cancelled while it waits leaves without a slot, and the slot still goes to the next waiter")
    func cancelledWaiter() async throws {
        let limiter = FetchLimiter(limit: 1)
        let occupancy = Occupancy()
        let (gate, open) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await limiter.withSlot {
                await occupancy.enter(0)
                for await _ in gate { break }
            }
        }
        try await waitUntil { await occupancy.order == [0] }
        let cancelled = Task { try await limiter.withSlot { await occupancy.enter(1) } }
        try await waitUntil { limiter.waiterCount == 1 }
        let next = Task { try await limiter.withSlot { await occupancy.enter(2) } }
        try await waitUntil { limiter.waiterCount == 2 }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        // A task already cancelled when it asks, while every slot is taken, does not queue.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await limiter.withSlot { await occupancy.enter(3) }
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(limiter.waiterCount == 1)
        open.yield()
        open.finish()
        try await holder.value
        try await next.value
        #expect(await occupancy.order == [0, 2])
        #expect(limiter.inUse == 0)
        #expect(limiter.waiterCount == 0)
    }
}

/// Polls `condition` every millisecond for up to five seconds.
private func waitUntil(_ condition: @Sendable () async -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while await !condition() {
        if ContinuousClock.now > deadline { throw CancellationError() }
        try await Task.sleep(for: .milliseconds(1))
    }
}
