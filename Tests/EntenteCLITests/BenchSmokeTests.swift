import EntenteTestSupport
import Foundation
import Testing

/// CI builds and runs the benchmark on a tiny workload to prove it works; it never judges the timings.
@Suite struct BenchSmokeTests {
    @Test func theBenchmarkRunsAndReportsEveryFigure() async throws {
        let binary = CLI.binary.deletingLastPathComponent().appendingPathComponent("entente-bench")
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--records", "60", "--fields", "8", "--json"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let result = try await ChildProcess.run(process)
        let data = result.stdout
        #expect(result.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let keys = [
            "records", "fields", "w1_seconds", "w2_delta_bytes", "w2_value_bytes", "w2_changed_fields",
            "w3_fields_per_second",
            "w3_peak_rss_bytes", "w3_rss_growth_bytes", "w4_open_ms", "w4_read1000_ms", "w5_seconds",
            "limit_sqlite_rows_per_second",
            "w3_speedup_over_sqlite_upsert", "w3_check_seconds", "w3_check_fields_per_second",
        ]
        for key in keys { #expect(report[key] != nil, "missing \(key)") }
        #expect(report["w2_changed_fields"] as? Int == 18)
        #expect(report["w3_converged"] as? Int == 1, "the concurrent merge converged")
        // Each bundle import reports its write transactions: at least one each.
        #expect((report["w5_transactions"] as? Int ?? 0) >= 1)
        #expect(report["w3_longest_write_ms"] != nil && report["w5_longest_write_ms"] != nil)
        // The in-place floor is measured on records as large as the partner's: 8 fields take some bytes each.
        #expect((report["limit_record_bytes"] as? Double ?? Double(report["limit_record_bytes"] as? Int ?? 0)) > 8 * 4)
        #expect(report["limit_sqlite_in_place_fields_per_second"] != nil && report["w3_share_of_in_place_limit"] != nil)
    }
}
