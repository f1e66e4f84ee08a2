# Warnings and sanitizers shared by every aio target (library, tests, benchmarks, examples).
add_library(aio_build_flags INTERFACE)
target_compile_options(aio_build_flags INTERFACE -Wall -Wextra)
if(AIO_SANITIZE)
  target_compile_options(aio_build_flags INTERFACE -fsanitize=${AIO_SANITIZE} -fno-omit-frame-pointer)
  target_link_options(aio_build_flags INTERFACE -fsanitize=${AIO_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND AIO_SANITIZE MATCHES "undefined")
    # clang 14's -fsanitize=function cannot compile coroutines ("Cannot represent a
    # difference across sections").
    target_compile_options(aio_build_flags INTERFACE -fno-sanitize=function)
  endif()
endif()
install(TARGETS aio_build_flags EXPORT aioTargets)

# aio_add_module(name SOURCES ... DEPS ...): the library aio_<name>, exported as aio::<name>.
function(aio_add_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(aio_${name} ${M_SOURCES})
  add_library(aio::${name} ALIAS aio_${name})
  set_target_properties(aio_${name} PROPERTIES EXPORT_NAME ${name} POSITION_INDEPENDENT_CODE ON)
  target_include_directories(aio_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(aio_${name} PUBLIC cxx_std_20)
  target_link_libraries(aio_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS} $<BUILD_INTERFACE:aio_build_flags>)
  install(TARGETS aio_${name} EXPORT aioTargets)
endfunction()

# aio_add_test(name SOURCES ... DEPS ...): a GoogleTest binary registered with ctest.
function(aio_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} aio::testing GTest::gtest_main aio_build_flags)
  gtest_discover_tests(${name} TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120)
endfunction()
