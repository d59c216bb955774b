# What `cmake --install` puts where (GNUInstallDirs), and the .deb that cpack builds from it.
# The binary itself is installed by app/CMakeLists.txt.

install(FILES LICENSE README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)

# The man page and the bash completion are written from the built binary's --help
# (packaging/make-manpage, packaging/make-completion), so they list the options it has.
set(FOODPIPE_COMPLETION "${CMAKE_BINARY_DIR}/share/bash-completion/completions/foodpipe")
add_custom_command(OUTPUT "${FOODPIPE_COMPLETION}"
  COMMAND "${PROJECT_SOURCE_DIR}/packaging/make-completion" "$<TARGET_FILE:foodpipe>" "${FOODPIPE_COMPLETION}"
  DEPENDS foodpipe "${PROJECT_SOURCE_DIR}/packaging/make-completion"
  COMMENT "Generating the bash completion from foodpipe --help"
  VERBATIM)
add_custom_target(foodpipe_completion ALL DEPENDS "${FOODPIPE_COMPLETION}")
install(FILES "${FOODPIPE_COMPLETION}" DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# Without help2man the tool still builds and installs, only without its man page; the
# package test fails on that, so the project's own builds always have it.
find_program(FOODPIPE_HELP2MAN help2man)
if(FOODPIPE_HELP2MAN)
  set(FOODPIPE_MANPAGE "${CMAKE_BINARY_DIR}/share/man/man1/foodpipe.1.gz")
  add_custom_command(OUTPUT "${FOODPIPE_MANPAGE}"
    COMMAND "${PROJECT_SOURCE_DIR}/packaging/make-manpage" "$<TARGET_FILE:foodpipe>" "${FOODPIPE_MANPAGE}"
    DEPENDS foodpipe "${PROJECT_SOURCE_DIR}/packaging/make-manpage"
    COMMENT "Generating the man page from foodpipe --help with help2man"
    VERBATIM)
  add_custom_target(foodpipe_manpage ALL DEPENDS "${FOODPIPE_MANPAGE}")
  install(FILES "${FOODPIPE_MANPAGE}" DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "help2man not found: foodpipe's man page is not built (compose/install-deps installs it)")
endif()

# cpack: build/foodpipe_<version>_<arch>.deb, installed under /usr. Its Depends line comes
# from dpkg-shlibdeps (dpkg-dev) on the binary, so it names exactly the library packages
# (librdkafka, libpq, Boost, ...) of the distribution it was built on.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_CONTACT "The foodpipe authors <maintainers@users.noreply.r-seed-552f25ee.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
