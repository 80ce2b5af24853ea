import EntenteFuzz
import Foundation
import Testing

/// Replays every committed seed and crasher through the fuzz entry points (`Fuzz/README.md`).
///
/// No input may crash, every target must have seeds, and every `valid-*` seed must be accepted, which proves
/// the entry point reaches its parser. Serialized: it is CPU work, and the network tests beside it are
/// timing-sensitive.
@Suite(.serialized) struct CorpusReplayTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func files(_ kind: String, _ target: FuzzTarget) throws -> [(name: String, bytes: [UInt8])] {
        let directory = fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            .filter { !$0.hasPrefix(".") }
            .map { ($0, Array(try Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func corpusReplays(_ target: FuzzTarget) throws {
        let seeds = try Self.files("corpus", target)
        #expect(seeds.count >= 2, "Fuzz/corpus/\(target.rawValue) holds \(seeds.count) seeds")
        var accepted = 0
        for seed in seeds {
            let ok = target.run(seed.bytes)
            if ok { accepted += 1 }
            if seed.name.hasPrefix("valid-") {
                #expect(ok, "the \(target.rawValue) target rejects its valid seed \(seed.name)")
            }
        }
        #expect(accepted > 0, "the \(target.rawValue) target accepts none of its \(seeds.count) seeds")
        #expect(seeds.contains { $0.name.hasPrefix("valid-") }, "no valid-* seed for \(target.rawValue)")
    }

    @Test(arguments: FuzzTarget.allCases)
    func crashersStayFixed(_ target: FuzzTarget) throws {
        for crasher in try Self.files("crashers", target) { _ = target.run(crasher.bytes) }
    }

    /// The generator's seeds (fresh envelopes, a fresh handshake) are accepted too, so a regenerated corpus
    /// is valid.
    @Test(arguments: FuzzTarget.allCases)
    func generatedSeedsAreAccepted(_ target: FuzzTarget) {
        for seed in FuzzSeeds.seeds(for: target) {
            let ok = target.run(seed.bytes)
            #expect(ok == seed.name.hasPrefix("valid-"), "\(target.rawValue) seed \(seed.name) accepted: \(ok)")
        }
    }

    /// Rejections are counted, not just survived: a corrupted seed is refused.
    @Test func corruptedInputsAreRejected() {
        for target in [FuzzTarget.envelope, .operations, .partnerCard, .summary] {
            for seed in FuzzSeeds.seeds(for: target) where seed.name.hasPrefix("valid-") {
                #expect(!target.run(Array(seed.bytes.dropLast(2))), "\(target.rawValue) accepts a cut \(seed.name)")
            }
        }
        #expect(!FuzzTarget.syncSession.run(FuzzSeeds.script([(0, [0x99])])))
        #expect(!FuzzTarget.handshake.run([0, 0, 0, 0, 5, 1, 2, 3, 4, 5]))
    }

    /// Writes the generated seeds into `Fuzz/corpus` (run with `ENTENTE_FUZZ_WRITE_CORPUS=1`; see `make
    /// fuzz-corpus` in Fuzz/README.md).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ENTENTE_FUZZ_WRITE_CORPUS"] == "1"))
    func writeSeedCorpus() throws {
        let corpus = Self.fuzzDirectory.appendingPathComponent("corpus")
        let examples = Self.fuzzDirectory.deletingLastPathComponent().appendingPathComponent("Examples")
        for target in FuzzTarget.allCases {
            let directory = corpus.appendingPathComponent(target.rawValue)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var seeds = FuzzSeeds.seeds(for: target)
            switch target {
            case .csvImport:
                seeds.append(("valid-pipeline.csv", try Self.read(examples, "data/pipeline.csv")))
                seeds.append(("valid-salesforce.csv", try Self.read(examples, "data/salesforce-opportunities.csv")))
                seeds += Self.csvSeeds
            case .csvMapping:
                seeds.append(("valid-generic-pipeline.json", try Self.read(examples, "mappings/generic-pipeline.json")))
                seeds.append(
                    (
                        "valid-salesforce-opportunity.json",
                        try Self.read(examples, "mappings/salesforce-opportunity.json")
                    )
                )
                seeds += Self.mappingSeeds
            default:
                break
            }
            for seed in seeds {
                try Data(seed.bytes).write(to: directory.appendingPathComponent(seed.name))
            }
        }
    }

    static func read(_ directory: URL, _ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(path)))
    }

    static let csvSeeds: [(name: String, bytes: [UInt8])] = [
        (
            "valid-quoted.csv",
            Array(
                "\u{FEFF}id,name,amount,currency,close_date,delivery_models\r\n\"P-1\",\"Acme, \"\"Inc.\"\"\",\"1,200.50\",EUR,2027-01-31,\"saas;on-prem\"\r\nP-2,\"two\nlines\",,USD,,\r\n\r\nP-1,duplicate,1,USD,2027-02-30,x\r\n"
                    .utf8
            )
        ),
        (
            "valid-errors.csv",
            Array(
                "id,stage,probability,on_hold\nP-1,won,101,maybe\nP-2,\"open\"x,5,true,extra\nP-3,\"unterminated".utf8
            )
        ),
        ("other-no-key.csv", Array("name,amount\nAcme,12\n".utf8)),
    ]

    static let mappingSeeds: [(name: String, bytes: [UInt8])] = [
        (
            "valid-minimal.json",
            Array(
                #"{"object_type":"opportunity","key_column":"Id","number_format":"1.234,56","columns":[{"column":"Amount","field":"amount","currency":"EUR"},{"column":"Stage","field":"stage","values":[["Won","closed-won"]]},{"column":"Tags","field":"delivery_models","set_separator":"|"}]}"#
                    .utf8
            )
        ),
        ("other-unknown-key.json", Array(#"{"object_type":"opportunity","key_column":"Id","colums":[]}"#.utf8)),
    ]
}
