# tests.cmake - the integration tests' CTest wiring (included by
# tests/integration/CMakeLists.txt).

# PostgreSQL fixture
#
# One private PostgreSQL 15 cluster per ctest run, shared by every test that
# declares FIXTURES_REQUIRED pg: pg/start creates and starts it under
# <build>/testpg (tests/pg.sh; unix socket only, so parallel runs in other
# build directories never clash) and writes <build>/testpg/conninfo, which
# tests read through KF_TEST_PG_CONNINFO_FILE; pg/stop destroys it.
#
# ctest kills a timed-out test with SIGKILL, and a killed ctest never runs
# pg/stop, so `--watch ctest` makes pg.sh background a detached watchdog
# (`pg.sh watchdog DIR PID`) on the nearest ancestor process named ctest:
# when that ctest exits or is killed, the watchdog destroys the cluster and
# its /tmp socket directory.  pg/stop ends the watchdog after destroying.
# Run by hand, `tests/pg.sh start DIR --watch $$` ties a cluster to a shell.
add_test(NAME pg/start
  COMMAND ${CMAKE_SOURCE_DIR}/tests/pg.sh start ${CMAKE_BINARY_DIR}/testpg
          --watch ctest)
set_tests_properties(pg/start PROPERTIES FIXTURES_SETUP pg TIMEOUT 60)
add_test(NAME pg/stop
  COMMAND ${CMAKE_SOURCE_DIR}/tests/pg.sh destroy ${CMAKE_BINARY_DIR}/testpg)
set_tests_properties(pg/stop PROPERTIES FIXTURES_CLEANUP pg TIMEOUT 60)

# Integration suites
#
# One bash script per flow or hostile-input scenario, each sourcing lib.sh:
# real daemons on free loopback ports, a private database on the fixture's
# cluster, logs dumped on failure.  Binaries come from this build tree.  A
# suite that cannot run here (no root for a tmpfs, not enough free disk,
# a KMIP server missing) says why and exits 77: ctest reports it skipped.
file(GLOB KF_SUITES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.sh)
list(REMOVE_ITEM KF_SUITES ${CMAKE_CURRENT_SOURCE_DIR}/lib.sh)
foreach(suite ${KF_SUITES})
  get_filename_component(name ${suite} NAME_WE)
  add_test(NAME integration/${name} COMMAND bash ${suite})
  set_tests_properties(integration/${name} PROPERTIES
    ENVIRONMENT "KF_BIN_DIR=${CMAKE_BINARY_DIR};KF_TEST_PG_CONNINFO_FILE=${CMAKE_BINARY_DIR}/testpg/conninfo;KF_SRC_DIR=${CMAKE_SOURCE_DIR}"
    TIMEOUT 600
    SKIP_RETURN_CODE 77
    LABELS integration)
  if(NOT name STREQUAL "tools_selftest")
    set_tests_properties(integration/${name} PROPERTIES FIXTURES_REQUIRED pg)
  endif()
endforeach()

# KMIP backend
#
# kmip_*.sh run commserved against a real KMIP server: PyKMIP's (Debian
# python3-pykmip, run with /usr/bin/python3) and kmsd.  A suite whose server
# is missing (no PyKMIP, kmsd not built) exits 77, which ctest reports as
# skipped rather than passed.  Label "kmip" selects them: ctest -L kmip.
foreach(suite ${KF_SUITES})
  get_filename_component(name ${suite} NAME_WE)
  if(name MATCHES "^kmip_")
    set_tests_properties(integration/${name} PROPERTIES
      SKIP_RETURN_CODE 77 LABELS "integration;kmip")
  endif()
endforeach()

# faults
#
# fault_*.sh crash daemons on purpose (KEYFLOW_FAULT fault points and
# kill -9) and check that jobs end failed or interrupted, never running.
# fault_disk_full needs root for its tmpfs and exits 77 (skipped) without.
if(TEST integration/fault_disk_full)
  set_tests_properties(integration/fault_disk_full PROPERTIES
    SKIP_RETURN_CODE 77)
endif()

# kmsd
#
# kmsd's suites (tests/integration/kmsd_*.sh, with their helpers in
# tests/interop/) start only kmsd and Python clients: no database, so they
# drop the pg fixture the loop above gives every suite, and run without
# it.  They are added here should that loop ever stop globbing them.
foreach(suite kmsd_pykmip kmsd_tls kmsd_durability kmsd_hostile
    kmsd_protocol)
  if(NOT TEST integration/${suite})
    add_test(NAME integration/${suite}
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/${suite}.sh)
  endif()
  set_tests_properties(integration/${suite} PROPERTIES
    ENVIRONMENT "KF_BIN_DIR=${CMAKE_BINARY_DIR};KF_SRC_DIR=${CMAKE_SOURCE_DIR}"
    FIXTURES_REQUIRED ""
    TIMEOUT 600
    LABELS "integration;kmsd")
endforeach()

# netcut
#
# netcut.sh runs the client and the MediaAgent in two network namespaces
# of its own and cuts the veth between them mid-backup.  Namespaces need
# root: without it the suite exits 77 (skipped).
if(TEST integration/netcut)
  set_tests_properties(integration/netcut PROPERTIES SKIP_RETURN_CODE 77)
endif()
