import EntenteCore
import Foundation
import Testing

@testable import Entente

/// Checkpoints run after a write transaction once the write-ahead log holds 1,000 frames, instead of inside the
/// commit that crossed the mark (`Specs/storage.md`, "Checkpoints"). The main database file only grows when a
/// checkpoint copies the log into it, which is what these tests watch.
@Suite struct CheckpointTests {
    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? -1
    }

    @Test func aLargeWriteIsCheckpointedAndASmallOneIsLeftInTheLog() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let node = deal.globex
        // Setting up the deal wrote far fewer than 1,000 frames: no checkpoint yet.
        let before = Self.size(node.databasePath)
        _ = try await node.create(type: "opportunity", changes: Changes(fields: [FieldValue("title", "Small")]))
        #expect(Self.size(node.databasePath) == before, "a small write stays in the log")
        #expect(Self.size(node.databasePath + "-wal") > 0)

        // About 6 MB of records: more than 1,000 frames of 4 KiB, committed 500 records at a time.
        let text = String(repeating: "x", count: 2_000)
        let records = (0..<3_000).map { Changes(fields: [FieldValue("title", .string("\(text) \($0)"))]) }
        _ = try await node.createMany(type: "opportunity", records: records)
        #expect(Self.size(node.databasePath) > before + 4_000_000, "the log was copied into the database file")
        // Nothing was lost on the way: every record reads back.
        #expect(try await node.objects().count == records.count + 1)
    }
}
