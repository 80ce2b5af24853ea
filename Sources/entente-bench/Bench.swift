import ArgumentParser
import Entente
import EntenteCrypto
import Foundation
import GRDB
import Synchronization

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entente-bench",
        abstract: "Measure Entente on a joint-pipeline workload, against the physical limits measured in the same run.",
        discussion: """
            Run it in release mode: swift run -c release entente-bench [--records N] [--fields F] [--partners P] [--json]
            W1 build: the owner creates N records of F fields (one private) shared with P-1 partners.
            W5 full sync: a partner receives the whole pipeline it is entitled to, as a bundle file (read an
               envelope at a time, checked whole, then merged in transactions of about 60 ms).
            W2 delta: the owner changes 3 fields in 10% of the records; the delta for one partner is exported.
            W3 merge: the partner imports it (open, verify, decrypt, merge, persist) as a bundle (checked whole,
               then merged in transactions of about 60 ms; the check's time and the longest write are reported);
               then such a delta over TCP on loopback (committed in chunks; the longest write transaction is
               reported); then with concurrent changes by the partner to the same fields, and both sides converge.
               With --rounds R, W2 runs R times (fresh changes to the same records), every delta prepared before W3
               imports them in turn; W3 is reported over all.
            W4 cold open: open the partner's store and read one record; then read 1,000 random records.
            Limits: raw SQLite upserts of the same rows (one prepared statement, sorted, one transaction); the
               in-place floor (a table of N records of the partner's average record size, every tenth read and
               written back, durably, in one transaction: the floor of a layout that rewrites records in place);
               Ed25519 verifications per second, XChaCha20-Poly1305 throughput.
            """
    )

    @Option(help: "Records in the pipeline.") var records = 100_000
    @Option(help: "Fields per record (1...20).") var fields = 20
    @Option(help: "Companies in the deal (the owner and P-1 partners).") var partners = 3
    @Option(help: "Where to put the node directories (default: a temporary folder, removed afterwards).") var dir:
        String?
    @Option(help: "Rounds of W2 and W3 (each a fresh delta on the same records); W3 is reported over all of them.")
    var rounds = 1
    @Flag(help: "Print one JSON object instead of the table.") var json = false

    func validate() throws {
        guard records >= 10 else { throw ValidationError("--records must be at least 10") }
        guard (4...20).contains(fields) else {
            throw ValidationError("--fields must be 4...20 (the delta changes stage, amount, probability)")
        }
        guard partners >= 2 else { throw ValidationError("--partners must be at least 2") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    }

    func progress(_ text: String) {
        if !json { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    func run() async throws {
        let root = URL(fileURLWithPath: dir ?? NSTemporaryDirectory()).appendingPathComponent(
            "entente-bench-\(UUID().uuidString)"
        )
        defer { if dir == nil { try? FileManager.default.removeItem(at: root) } }
        let workload = Workload(fields: fields)
        var results: [(String, Double)] = [
            ("records", Double(records)), ("fields", Double(fields)), ("partners", Double(partners)),
        ]

        let owner = try Node.create(at: root.appendingPathComponent("owner"), companyName: "Globex")
        var others: [Node] = []
        for index in 1..<partners {
            others.append(
                try Node.create(at: root.appendingPathComponent("partner\(index)"), companyName: "Partner\(index)")
            )
        }
        for node in [owner] + others {
            for other in [owner] + others where other !== node { try await node.addPartner(other.card) }
        }
        let partner = others[0]

        progress("W1: creating \(records) records of \(fields) fields...")
        // The records are generated 10,000 at a time, outside the timed part: the benchmark does not hold a
        // million records of input while it measures memory.
        var ids: [ObjectID] = []
        var w1 = 0.0
        while ids.count < records {
            let batch = (ids.count..<min(ids.count + 10_000, records)).map(workload.record)
            w1 += try await Meter.seconds {
                ids += try await owner.createMany(type: "opportunity", records: batch, with: others.map(\.company))
            }
        }
        results += [("w1_seconds", w1), ("w1_fields_per_second", Double(records * fields) / w1)]

        progress("W5: full sync to a partner, through a bundle file...")
        let bundle = root.appendingPathComponent("pipeline.bundle").path
        let written = try await owner.exportBundle(to: partner.company, since: try await partner.summary(), file: bundle)
        let w5Before = Meter.resetPeak()
        _ = partner.takeWriteStatistics()
        let w5 = try await Meter.seconds { try await partner.importBundle(file: bundle) }
        let w5Writes = partner.takeWriteStatistics()
        let w5Peak = Meter.peakRSS()
        try? FileManager.default.removeItem(atPath: bundle)
        results += [
            ("w5_seconds", w5), ("w5_envelopes", Double(written.envelopes)), ("w5_bytes", Double(written.bytes)),
            ("w5_fields_per_second", Double(records * (fields - 1)) / w5),
            ("w5_peak_rss_bytes", Double(w5Peak)), ("w5_rss_growth_bytes", Double(max(0, w5Peak - w5Before))),
            ("w5_transactions", Double(w5Writes.transactions)),
            ("w5_longest_write_ms", Meter.milliseconds(w5Writes.longest)),
        ]

        progress("W2: changing 3 fields in 10% of the records...")
        let changed = stride(from: 0, to: records, by: 10).map { $0 }
        let deltas = changed.map { (ids[$0], workload.delta($0, round: 1)) }
        let w2 = try await Meter.seconds { try await owner.updateMany(deltas) }
        let delta = try await owner.envelopes(for: partner.company, since: try await partner.summary())
        let deltaBytes = delta.reduce(0) { $0 + $1.count }
        let changedFields = changed.count * 3
        let valueBytes = deltas.reduce(0) { $0 + Workload.valueBytes($1.1) }
        results += [
            ("w2_seconds", w2), ("w2_changed_fields", Double(changedFields)), ("w2_delta_bytes", Double(deltaBytes)),
            ("w2_value_bytes", Double(valueBytes)),
            ("w2_bytes_per_changed_field", Double(deltaBytes) / Double(changedFields)),
        ]

        // Every round's delta is prepared before W3 starts, so that W3's time (and a profile of it) holds the
        // partner's imports only: the envelopes the owner logs for round r follow round r-1's in its log.
        var roundDeltas = [delta]
        for round in 1..<rounds {
            progress("W2, round \(round + 1) of \(rounds)...")
            try await owner.updateMany(changed.map { (ids[$0], workload.delta($0, round: UInt64(100 + round))) })
            let all = try await owner.envelopes(for: partner.company, since: try await partner.summary())
            roundDeltas.append(Array(all.dropFirst(roundDeltas.reduce(0) { $0 + $1.count })))
        }
        progress("W3: the partner merges the delta...")
        let before = Meter.resetPeak()
        _ = partner.takeWriteStatistics()
        var w3 = 0.0
        var w3CPU = 0.0
        var w3Check = 0.0
        for envelopes in roundDeltas {
            let bundle = Bundle(envelopes: envelopes).encoded()
            let cpu = Meter.cpuSeconds()
            // The check's share: from the start to the last envelope checked (the merge follows).
            let start = DispatchTime.now().uptimeNanoseconds
            let checked = Mutex<UInt64>(start)
            w3 += try await Meter.seconds {
                try await partner.importBundle(bundle) { progress in
                    if case .checked(let done, let total) = progress, done == total {
                        checked.withLock { $0 = DispatchTime.now().uptimeNanoseconds }
                    }
                }
            }
            w3CPU += Meter.cpuSeconds() - cpu
            w3Check += Double(checked.withLock { $0 } - start) / 1e9
        }
        let peak = Meter.peakRSS()
        let w3Writes = partner.takeWriteStatistics()
        results += [
            ("w3_seconds", w3 / Double(rounds)), ("w3_fields_per_second", Double(changedFields * rounds) / w3),
            ("w3_cpu_microseconds_per_field", w3CPU * 1e6 / Double(changedFields * rounds)),
            ("w3_check_seconds", w3Check / Double(rounds)),
            ("w3_check_fields_per_second", Double(changedFields * rounds) / w3Check),
            ("w3_peak_rss_bytes", Double(peak)), ("w3_rss_growth_bytes", Double(max(0, peak - before))),
            ("w3_longest_write_ms", Meter.milliseconds(w3Writes.longest)),
        ]

        progress("W3 network: the same kind of delta over TCP on loopback, committed in chunks...")
        try await owner.updateMany(changed.map { (ids[$0], workload.delta($0, round: 4)) })
        _ = partner.takeWriteStatistics()
        let w3n = try await Meter.seconds {
            try await withSyncServer(node: owner, listeningOn: "127.0.0.1:0") { address in
                _ = try await partner.sync(with: owner.company, address: address)
            }
        }
        let networkWrites = partner.takeWriteStatistics()
        results += [
            ("w3_network_fields_per_second", Double(changedFields) / w3n),
            ("w3_network_transactions", Double(networkWrites.transactions)),
            ("w3_network_longest_write_ms", Meter.milliseconds(networkWrites.longest)),
        ]

        progress("W3 concurrent: both sides change the same fields, then exchange...")
        try await owner.updateMany(changed.map { (ids[$0], workload.delta($0, round: 2)) })
        try await partner.updateMany(changed.map { (ids[$0], workload.delta($0, round: 3)) })
        let ownerDelta = try await owner.envelopes(for: partner.company, since: try await partner.summary())
        let partnerDelta = try await partner.envelopes(for: owner.company, since: try await owner.summary())
        let w3c = try await Meter.seconds { try await partner.importEnvelopes(ownerDelta) }
        try await owner.importEnvelopes(partnerDelta)
        var converged = true
        for index in changed.prefix(200) {
            let mine = try await owner.object(ids[index]).joint
            let theirs = try await partner.object(ids[index]).joint
            if mine != theirs { converged = false }
        }
        results += [
            ("w3_concurrent_fields_per_second", Double(changedFields) / w3c), ("w3_converged", converged ? 1 : 0),
        ]

        progress("W4: cold open and reads...")
        let partnerDirectory = partner.directory
        var reopened: Node?
        let w4open = try await Meter.seconds {
            let node = try Node.open(at: partnerDirectory)
            _ = try await node.object(ids[records / 2])
            reopened = node
        }
        var generator = SystemRandomNumberGenerator()
        let sample = (0..<1000).map { _ in ids[Int.random(in: 0..<records, using: &generator)] }
        let w4read = try await Meter.seconds {
            for id in sample { _ = try await reopened?.object(id) }
        }
        results += [("w4_open_ms", w4open * 1000), ("w4_read1000_ms", w4read * 1000)]

        progress("Limits: raw SQLite upserts, Ed25519, XChaCha20-Poly1305...")
        let sqliteRate = try sqliteUpsertRate(rows: changedFields, directory: root)
        let recordBytes = try averageRecordBytes(partner.databasePath)
        // Each record rewritten stands for the 3 fields W3 changes in it.
        let inPlaceFields = 3 * (try sqliteInPlaceRate(
            records: records,
            recordBytes: recordBytes,
            changed: changed.count,
            directory: root
        ))
        let verifyRate = ed25519VerifyRate()
        let aeadRate = try aeadThroughput()
        results += [
            ("limit_sqlite_rows_per_second", sqliteRate), ("limit_ed25519_verifies_per_second", verifyRate),
            ("limit_xchacha20poly1305_bytes_per_second", aeadRate),
            ("w3_speedup_over_sqlite_upsert", Double(changedFields * rounds) / w3 / sqliteRate),
            ("limit_record_bytes", recordBytes),
            ("limit_sqlite_in_place_fields_per_second", inPlaceFields),
            ("w3_share_of_in_place_limit", Double(changedFields * rounds) / w3 / inPlaceFields),
        ]
        report(results)
    }

    /// The naive storage path: one prepared upsert per (object, field) row, sorted, in one transaction.
    func sqliteUpsertRate(rows: Int, directory: URL) throws -> Double {
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("raw.sqlite").path)
        try queue.write { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(
                sql: """
                    CREATE TABLE field (object BLOB NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL, clock BLOB NOT NULL,
                        PRIMARY KEY (object, name)) WITHOUT ROWID
                    """
            )
        }
        var generator = SystemRandomNumberGenerator()
        let objects = (0..<max(rows / 3, 1)).map { _ in
            Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }.sorted { $0.lexicographicallyPrecedes($1) }
        let names = ["amount", "probability", "stage"]
        let start = DispatchTime.now().uptimeNanoseconds
        try queue.write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO field (object, name, value, clock) VALUES (?, ?, ?, ?)
                    ON CONFLICT (object, name) DO UPDATE SET value = excluded.value, clock = excluded.clock
                    WHERE excluded.clock > field.clock
                    """
            )
            var clock: UInt64 = 1
            for object in objects {
                for name in names {
                    clock += 1
                    try statement.execute(arguments: [
                        object, name, Data("value \(clock)".utf8),
                        Data(withUnsafeBytes(of: clock.bigEndian, Array.init)),
                    ])
                }
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(objects.count * names.count) / elapsed
    }

    /// The partner store's average record size, in bytes.
    func averageRecordBytes(_ path: String) throws -> Double {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in try Double.fetchOne(db, sql: "SELECT avg(length(fields)) FROM record") } ?? 0
    }

    /// The storage floor of W3 for any layout that updates records in place: a table of `records` rows of
    /// `recordBytes` each (a record per row, as the store keeps them, in a file as large), where every tenth
    /// record is read and written back with 30 of its bytes changed, in handle order, durably (WAL,
    /// synchronous=FULL, a 16 MiB page cache, a checkpoint after the commit, as the store does). Records per
    /// second.
    func sqliteInPlaceRate(records: Int, recordBytes: Double, changed: Int, directory: URL) throws -> Double {
        let path = directory.appendingPathComponent("in-place.sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -16384")
        }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        let size = max(Int(recordBytes), 32)
        var generator = SystemRandomNumberGenerator()
        let filler = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE record (object INTEGER PRIMARY KEY, fields BLOB NOT NULL)")
            let insert = try db.makeStatement(sql: "INSERT INTO record (object, fields) VALUES (?, ?)")
            for handle in 1...records {
                var bytes = filler
                bytes[handle % size] = UInt8(truncatingIfNeeded: handle)
                try insert.execute(arguments: [handle, Data(bytes)])
            }
        }
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let start = DispatchTime.now().uptimeNanoseconds
        try queue.write { db in
            let read = try db.makeStatement(sql: "SELECT fields FROM record WHERE object = ?")
            let write = try db.makeStatement(sql: "UPDATE record SET fields = ? WHERE object = ?")
            for handle in stride(from: 1, through: records, by: 10) {
                guard let data = try Data.fetchOne(read, arguments: [handle]) else { continue }
                var bytes = [UInt8](data)
                for index in bytes.count - 30..<bytes.count { bytes[index] &+= 1 }
                try write.execute(arguments: [Data(bytes), handle])
            }
        }
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(changed) / elapsed
    }

    func ed25519VerifyRate() -> Double {
        let key = SigningKeyPair.generate()
        let message = [UInt8](repeating: 0x42, count: 1024)
        let signature = key.signature(for: message)
        let count = 5000
        let start = DispatchTime.now().uptimeNanoseconds
        var valid = 0
        for _ in 0..<count where key.publicKey.isValidSignature(signature, for: message) { valid += 1 }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(valid) / elapsed
    }

    func aeadThroughput() throws -> Double {
        let key = SymmetricKey.random()
        let nonce = XChaCha20Poly1305.randomNonce()
        let chunk = [UInt8](repeating: 7, count: 1 << 20)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<64 { _ = try XChaCha20Poly1305.seal(chunk, key: key, nonce: nonce, associatedData: []) }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(64 << 20) / elapsed
    }

    func report(_ results: [(String, Double)]) {
        if json {
            let body = results.map { name, value in
                let text =
                    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.4f", value)
                return "  \"\(name)\": \(text)"
            }
            print("{\n" + body.joined(separator: ",\n") + "\n}")
            return
        }
        for (name, value) in results {
            let text =
                value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
            print(name.padding(toLength: 42, withPad: " ", startingAt: 0) + text)
        }
    }
}
