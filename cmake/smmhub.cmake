# Helpers that declare the project's targets with one call each, so that every
# library gets the same include root and every test the same labels.

# smmhub_library(NAME SOURCES file... DEPS target...)
# Declares the static library smmhub_NAME, aliased as NAME for DEPS lists.
function(smmhub_library NAME)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(smmhub_${NAME} STATIC ${ARG_SOURCES})
  add_library(${NAME} ALIAS smmhub_${NAME})
  target_include_directories(smmhub_${NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(smmhub_${NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# smmhub_test(NAME SOURCES file... DEPS target... [LABELS label...])
# Declares a GoogleTest executable and registers its tests with CTest. The
# tests run from the source tree's root, so that they find tests/testdata.
function(smmhub_test NAME)
  if(NOT SMMHUB_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${NAME} ${ARG_SOURCES})
  target_link_libraries(${NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  set_target_properties(${NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  gtest_discover_tests(${NAME}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES LABELS "${ARG_LABELS}"
    DISCOVERY_TIMEOUT 60)
endfunction()
