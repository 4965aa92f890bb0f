#pragma once
// The Store contract suite (contract_test.cc): one parameterized GoogleTest suite that every
// backend must pass. A backend joins by instantiating it in its own test file:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
//                            ::testing::Values(StoreBackend{"sqlite", OpenMyStore}),
//                            StoreBackendName);
//
// The factory opens (or reopens) the backend's store in `dir` (a fresh temporary directory per
// test; reopening passes the same one). It must return a working store or fail the test; a store
// must tolerate Maintain() being called in a loop until it returns false, after which all
// spans it holds are indexed (if it defers indexing at all).
// Threads: tests drive the writer side from the test thread, readers from extra threads.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/store.h"

namespace avtrace::store {

using StoreFactory = std::function<std::unique_ptr<Store>(const std::string& dir)>;

struct StoreBackend {
  std::string name;
  StoreFactory open;
};

inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

inline std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

class StoreContractTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Closes and reopens the store on the same directory.
  void Reopen();
  // Runs Maintain until it reports no pending work.
  void MaintainAll();
  // Appends batches in one call and expects OK.
  void Append(std::initializer_list<const otlp::Batch*> batches);

  std::string dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace avtrace::store
